import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, code, consentPurpose, fakePhoto, keyActor, person, ruleVeil, why } from './fixture.js';
import { fakeGroup } from '../../support/fake-analyzer.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import type { Veil } from '../../src/app/veil.js';

// Human oversight of identifications (EU AI Act Art. 14(5)): under a purpose with `confirmations: 2`
// a match is unconfirmed until two different keys confirmed it; one rejection wins.

const alice = keyActor('operator', ['watch'], 'key_alice');
const bob = keyActor('investigator', ['watch'], 'key_bob');
const carol = keyActor('operator', ['watch'], 'key_carol');

async function entries(v: Veil, action: string) {
  const size = await auditRepository.size(v.store.db);
  return (await auditRepository.entries(v.store.db, 1, size))
    .map((x) => JSON.parse(x.body) as { action: string; actor: { id: string }; detail: Record<string, unknown> })
    .filter((e) => e.action === action);
}

async function setup() {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'watch', { confirmations: 2 });
  await consentPurpose(v, 'other');
  const { subjectId } = await person(v, 'watch', 'amy');
  const search = async (actor = alice) =>
    v.search.identify(actor, { purpose: 'watch', image: fakePhoto('amy', '2'), ...why, caseRef: 'C-1' });
  return { v, subjectId, search };
}

test('a match of a two-person purpose is unconfirmed until two different keys confirmed it; the same key twice counts once', async () => {
  const { v, subjectId, search } = await setup();
  const r = await search();
  assert.deepEqual(r.candidates[0]!.confirmation, { required: 2, state: 'unconfirmed', confirmations: 0 });
  assert.deepEqual(r.faces[0]!.candidates[0]!.confirmation, r.candidates[0]!.confirmation);
  const m = { searchId: r.searchId, face: 0, subjectId };
  // The searching key may be one of the two.
  assert.deepEqual((await v.search.confirmMatch(alice, m)).confirmation, {
    required: 2,
    state: 'unconfirmed',
    confirmations: 1,
  });
  assert.deepEqual((await v.search.confirmMatch(alice, m)).confirmation.state, 'unconfirmed');
  assert.equal((await entries(v, 'match.confirmed')).length, 1, 'a repeated decision is not recorded again');
  const done = await v.search.confirmMatch(bob, m);
  assert.deepEqual(done.confirmation, { required: 2, state: 'confirmed', confirmations: 2 });
  assert.deepEqual(
    done.decisions.map((d) => [d.by, d.role, d.decision]),
    [
      ['api-key:key_alice', 'operator', 'confirm'],
      ['api-key:key_bob', 'investigator', 'confirm'],
    ],
  );
  const state = await v.search.confirmations(keyActor('dpo', ['watch']), r.searchId);
  assert.equal(state.matches[0]!.confirmation.state, 'confirmed');
  // The subject's record says where each match that returned them stands.
  const record = await v.subjects.get(keyActor('dpo', ['watch']), subjectId);
  assert.deepEqual(record.searches.find((s) => s.searchId === r.searchId)?.confirmation, {
    required: 2,
    state: 'confirmed',
    confirmations: 2,
  });
  // Audited, without biometric data: no score, no template.
  const audited = await entries(v, 'match.confirmed');
  assert.deepEqual(
    audited.map((e) => [e.actor.id, e.detail['state'], e.detail['confirmations']]),
    [
      ['key_alice', 'unconfirmed', 1],
      ['key_bob', 'confirmed', 2],
    ],
  );
  assert.ok(audited.every((e) => !('similarity' in e.detail) && e.detail['searchId'] === r.searchId));
  await v.close();
});

test('one rejection makes the match rejected, and a rejected match cannot be confirmed', async () => {
  const { v, subjectId, search } = await setup();
  const r = await search();
  const m = { searchId: r.searchId, face: 0, subjectId };
  await v.search.confirmMatch(alice, m);
  await v.search.confirmMatch(bob, m);
  const rejected = await v.search.rejectMatch(carol, m);
  assert.deepEqual(rejected.confirmation, { required: 2, state: 'rejected', confirmations: 2 });
  assert.equal(await code(v.search.confirmMatch(keyActor('operator', ['watch'], 'key_dan'), m)), 'INVALID_STATE');
  assert.equal((await entries(v, 'match.rejected')).length, 1);
  await v.close();
});

test('only a key bound to the search purpose with a role that may identify decides; others see no such search', async () => {
  const { v, subjectId, search } = await setup();
  const r = await search();
  const m = { searchId: r.searchId, face: 0, subjectId };
  const elsewhere = keyActor('operator', ['other'], 'key_elsewhere');
  // Another purpose's search reads exactly as a search that does not exist.
  assert.equal(await code(v.search.confirmMatch(elsewhere, m)), 'NOT_FOUND');
  assert.equal(await code(v.search.confirmMatch(alice, { ...m, searchId: 'srch_none' })), 'NOT_FOUND');
  assert.equal(await code(v.search.confirmations(keyActor('dpo', ['other']), r.searchId)), 'NOT_FOUND');
  // A candidate the search did not return, a face it did not search.
  assert.equal(await code(v.search.confirmMatch(alice, { ...m, face: 1 })), 'NOT_FOUND');
  assert.equal(await code(v.search.confirmMatch(alice, { ...m, subjectId: 'sub_x' })), 'NOT_FOUND');
  // Roles that may not identify may not confirm.
  assert.equal(await code(v.search.confirmMatch(keyActor('dpo', ['watch']), m)), 'FORBIDDEN');
  assert.equal(await code(v.search.rejectMatch(keyActor('auditor', ['watch']), m)), 'FORBIDDEN');
  assert.equal((await entries(v, 'match.confirmed')).length, 0);
  await v.close();
});

test('an admin bound to the purpose sets its rule (audited); searches already made keep the rule they were made under', async () => {
  const { v, subjectId, search } = await setup();
  const before = await search();
  const change = { confirmations: 0, reason: 'pilot ended' };
  assert.equal(await code(v.purposes.setConfirmations(keyActor('dpo', '*'), 'watch', change)), 'FORBIDDEN');
  assert.equal(await code(v.purposes.setConfirmations(keyActor('admin', ['other']), 'watch', change)), 'FORBIDDEN');
  assert.equal(
    await code(v.purposes.setConfirmations(admin, 'watch', { confirmations: 4, reason: 'too many' })),
    'INVALID_INPUT',
  );
  const p = await v.purposes.setConfirmations(keyActor('admin', ['watch']), 'watch', change);
  assert.equal(p.confirmations, 0);
  assert.equal((await v.purposes.get(admin, 'watch')).confirmations, 0);
  const updated = await entries(v, 'purpose.updated');
  assert.deepEqual(updated.at(-1)!.detail, { setting: 'confirmations', from: 2, to: 0, reason: 'pilot ended' });
  const after = await search();
  assert.equal(after.candidates[0]!.confirmation, undefined);
  const old = await v.search.confirmations(alice, before.searchId);
  assert.deepEqual(old.matches[0]!.confirmation, { required: 2, state: 'unconfirmed', confirmations: 0 });
  const now = await v.search.confirmations(alice, after.searchId);
  assert.equal(now.matches[0]!.confirmation.state, 'not-required');
  assert.equal(now.matches[0]!.subjectId, subjectId);
  await v.close();
});

test('nothing downstream takes an unconfirmed match as one: no sightings, no CompreFace recognition', async () => {
  const { v } = await setup();
  // Photo ingestion would make sightings nobody confirmed.
  assert.equal(
    await code(v.media.ingest(admin, 'watch', { name: 'a.jpg', bytes: fakePhoto('amy', '3') })),
    'INVALID_STATE',
  );
  // A CompreFace client reads every subject it gets as a match: no key for such a purpose...
  assert.equal(await code(v.compreface.keys.create(admin, { role: 'operator', purpose: 'watch' })), 'INVALID_INPUT');
  // ...and a key made before the purpose took the rule is refused its identifications.
  await person(v, 'other', 'bea');
  const { token } = await v.compreface.keys.create(admin, { role: 'operator', purpose: 'other' });
  const key = await v.apiKeys.authenticate(token);
  const opts = { plugins: new Set<never>(), status: false };
  assert.equal(await code(v.compreface.recognition.recognize(key, fakePhoto('bea', '2'), opts)), 'OK');
  await v.purposes.setConfirmations(admin, 'other', { confirmations: 2, reason: 'watch-list use' });
  assert.equal(await code(v.compreface.recognition.recognize(key, fakePhoto('bea', '2'), opts)), 'INVALID_STATE');
  await v.close();
});

test('a purpose whose photos already name people cannot take the rule: those sightings were never confirmed', async () => {
  const { v } = await setup();
  await person(v, 'other', 'bea');
  await v.media.ingest(admin, 'other', { name: 'crowd.jpg', bytes: fakePhoto('nobody-known') });
  // Photos without a sighting do not stand in the way...
  const rule = { confirmations: 2, reason: 'watch-list use' };
  assert.equal((await v.purposes.setConfirmations(admin, 'other', rule)).confirmations, 2);
  await v.purposes.setConfirmations(admin, 'other', { confirmations: 0, reason: 'back to events' });
  const m = await v.media.ingest(admin, 'other', { name: 'g.jpg', bytes: fakeGroup('bea', 'stranger') });
  assert.ok(m.status === 'ingested' && m.sightings === 1);
  // ...a photo that names someone does, and the purpose is left as it was, with no audit entry.
  const before = (await entries(v, 'purpose.updated')).length;
  const err = await v.purposes.setConfirmations(admin, 'other', rule).catch((e: Error) => e);
  assert.equal(await code(Promise.reject(err)), 'CONFLICT');
  assert.match((err as Error).message, /holds 1 sighting\(s\) from photo ingestion/);
  assert.equal((await v.purposes.get(admin, 'other')).confirmations, 0);
  assert.equal((await entries(v, 'purpose.updated')).length, before);
  // Lowering or keeping 0 stays possible.
  assert.equal(
    (await v.purposes.setConfirmations(admin, 'other', { confirmations: 0, reason: 'same' })).confirmations,
    0,
  );
  await v.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strFromU8, unzipSync } from 'fflate';
import { code, consentPurpose, fakePhoto, keyActor, person, ruleVeil, why } from './fixture.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import type { Veil } from '../../src/app/veil.js';
import type { MemoryMailer } from '../../support/memory-mailer.js';

// A person sees who confirmed or rejected the matches that returned them (their access export), and
// contests a match from the portal's request flow: the contest reaches the DPO's queue with those
// matches, and its fulfilment rejects them.

const alice = keyActor('operator', ['watch'], 'key_alice');
const bob = keyActor('operator', ['watch'], 'key_bob');
const dpo = keyActor('dpo', '*', 'key_dpo');

async function setup() {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'watch', { confirmations: 2 });
  const amy = await person(v, 'watch', 'amy', { email: 'amy@example.org' });
  const search = async () =>
    v.search.identify(alice, { purpose: 'watch', image: fakePhoto('amy', '2'), ...why, caseRef: 'C-9' });
  return { v, mail, subjectId: amy.subjectId, search };
}

async function verified(v: Veil, mail: MemoryMailer, kind: 'access' | 'contest', email: string) {
  const r = await v.rights.intake.submit({ kind, email });
  const ver = await v.rights.intake.verify(r.requestId, { code: mail.codeFor(email) });
  return { id: r.requestId, token: ver.downloadToken };
}

async function exported(v: Veil, mail: MemoryMailer) {
  const access = await verified(v, mail, 'access', 'amy@example.org');
  await v.rights.self.answer(access.id, access.token);
  const zip = unzipSync(new Uint8Array((await v.rights.self.download(access.id, access.token)).bytes));
  return { access, manifest: JSON.parse(strFromU8(zip['manifest.json']!)) as ExportDoc };
}

type ExportDoc = {
  subjects: {
    disclosures: {
      searchId: string;
      confirmation?: { required: number; state: string; confirmations: number };
      decisions?: { decision: string; by: string; byName: string; at: string; contest?: string }[];
    }[];
  }[];
};

test('the access export lists who confirmed or rejected each match that returned the person, and when', async () => {
  const { v, mail, subjectId, search } = await setup();
  const first = await search();
  const second = await search();
  await v.search.confirmMatch(alice, { searchId: first.searchId, face: 0, subjectId });
  await v.search.confirmMatch(bob, { searchId: first.searchId, face: 0, subjectId });
  await v.search.rejectMatch(bob, { searchId: second.searchId, face: 0, subjectId });
  const { manifest } = await exported(v, mail);
  const d = manifest.subjects[0]!.disclosures;
  const one = d.find((x) => x.searchId === first.searchId)!;
  const two = d.find((x) => x.searchId === second.searchId)!;
  assert.deepEqual(one.confirmation, { required: 2, state: 'confirmed', confirmations: 2 });
  assert.deepEqual(
    one.decisions!.map((x) => [x.decision, x.by]),
    [
      ['confirm', 'api-key:key_alice'],
      ['confirm', 'api-key:key_bob'],
    ],
  );
  assert.ok(one.decisions!.every((x) => x.at && x.byName));
  assert.deepEqual(two.confirmation, { required: 2, state: 'rejected', confirmations: 0 });
  assert.deepEqual(
    two.decisions!.map((x) => [x.decision, x.by]),
    [['reject', 'api-key:key_bob']],
  );
  await v.close();
});

test('a contest from the portal reaches the DPO queue with the matches, and its fulfilment rejects them', async () => {
  const { v, mail, subjectId, search } = await setup();
  const r = await search();
  await v.search.confirmMatch(alice, { searchId: r.searchId, face: 0, subjectId });
  // Filed as the portal does: a one-click follow-up of the verified access request.
  const { access } = await exported(v, mail);
  const contest = await v.rights.self.followUp(access.id, access.token, 'contest');
  assert.equal(contest.request.kind, 'contest');
  assert.equal(contest.request.state, 'verified', 'filing it does not carry it out: a human decides');
  const queue = await v.rights.queue.list(dpo, { open: true });
  assert.ok(queue.some((q) => q.id === contest.requestId));
  const seen = await v.rights.queue.get(dpo, contest.requestId);
  assert.deepEqual(
    seen.contested!.map((m) => [m.searchId, m.subjectId, m.confirmation.state]),
    [[r.searchId, subjectId, 'unconfirmed']],
  );
  // Only the DPO's queue carries it out.
  assert.equal(await code(v.rights.queue.fulfil(alice, contest.requestId)), 'FORBIDDEN');
  const done = await v.rights.queue.fulfil(dpo, contest.requestId);
  assert.equal(done.request.state, 'fulfilled');
  assert.deepEqual(done.request.outcome, { subjects: 1, matchesRejected: 1 });
  const after = await v.search.confirmations(alice, r.searchId);
  assert.equal(after.matches[0]!.confirmation.state, 'rejected');
  assert.deepEqual(
    after.matches[0]!.decisions.map((x) => [x.by, x.role, x.decision, x.requestId]),
    [
      ['api-key:key_alice', 'operator', 'confirm', null],
      ['api-key:key_dpo', 'dpo', 'reject', contest.requestId],
    ],
  );
  assert.equal(await code(v.search.confirmMatch(bob, { searchId: r.searchId, face: 0, subjectId })), 'INVALID_STATE');
  const size = await auditRepository.size(v.store.db);
  const rejected = (await auditRepository.entries(v.store.db, 1, size))
    .map((x) => JSON.parse(x.body) as { action: string; detail: Record<string, unknown> })
    .filter((e) => e.action === 'match.rejected');
  assert.deepEqual(
    rejected.map((e) => e.detail['requestId']),
    [contest.requestId],
  );
  await v.close();
});

test('a contest filed directly (code by email) is a request like the others: verified, then the DPO decides', async () => {
  const { v, mail, subjectId, search } = await setup();
  await search();
  const c = await verified(v, mail, 'contest', 'amy@example.org');
  assert.equal(await code(v.rights.self.answer(c.id, c.token)), 'INVALID_STATE');
  const seen = await v.rights.queue.get(dpo, c.id);
  assert.equal(seen.state, 'verified');
  assert.deepEqual(seen.matchedSubjects, [subjectId]);
  assert.equal(seen.contested!.length, 1);
  // An unfounded contest is denied with its reason, as any request.
  const denied = await v.rights.queue.deny(dpo, c.id, 'The match was checked by two officers.', 'Art. 12(5)');
  assert.equal(denied.state, 'denied');
  await v.close();
});

// Rules found by the review of the rights module: one behaviour per test, on a real database with the fake engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { strFromU8, unzipSync } from 'fflate';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import { fakeGroup } from '../../support/fake-analyzer.js';
import { admin, code, consentPurpose, fakePhoto, keyActor, legalPurpose, person, ruleVeil } from './fixture.js';

type V = Awaited<ReturnType<typeof ruleVeil>>['v'];
type M = Awaited<ReturnType<typeof ruleVeil>>['mail'];

async function verified(v: V, mail: M, kind: string, email: string, selfie?: Uint8Array) {
  const r = await v.rights.intake.submit({ kind: kind as never, email });
  const ver = await v.rights.intake.verify(r.requestId, {
    code: mail.codeFor(email),
    ...(selfie ? { selfies: [selfie] } : {}),
  });
  return { id: r.requestId, token: ver.downloadToken };
}
const state = async (v: V, id: string) => (await subjectRepository.get(v.store.db, id))!.state;
const manifest = async (v: V, id: string, token: string) =>
  JSON.parse(strFromU8(unzipSync(new Uint8Array((await v.rights.self.download(id, token)).bytes))['manifest.json']!));

test('a chain of one-click follow-ups never renews the identity check: a day after the code, they stop', async () => {
  const { v, mail, clock } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'ann', { email: 'ann@example.org' });
  const r = await verified(v, mail, 'access', 'ann@example.org');
  clock.advance(20 * 3_600_000);
  const f = await v.rights.self.followUp(r.id, r.token, 'restriction');
  clock.advance(20 * 3_600_000);
  assert.equal(await code(v.rights.self.followUp(f.requestId, f.downloadToken, 'erasure')), 'INVALID_STATE');
  assert.equal(await state(v, p.subjectId), 'restricted');
  await v.close();
});

test('a denied request cannot be used for one-click actions', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'dan', { email: 'dan@example.org' });
  const r = await verified(v, mail, 'access', 'dan@example.org');
  await v.rights.queue.deny(admin, r.id, 'Manifestly unfounded, repetitive', 'Art. 12(5)(b)');
  assert.equal(await code(v.rights.self.followUp(r.id, r.token, 'erasure')), 'INVALID_STATE');
  assert.equal(await state(v, p.subjectId), 'active');
  await v.close();
});

test('a DPO approving "subjects: []" approves nobody, and each item keeps its own decision', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  await person(v, 'events', 'bea');
  const r = await verified(v, mail, 'access', 'x@example.org', fakePhoto('bea', 'selfie'));
  const out = await v.rights.queue.review(admin, r.id, { decision: 'approve', subjects: [], note: 'none of these' });
  assert.deepEqual(out.request.review?.approved, []);
  assert.ok(out.request.review!.items.length > 0, 'the selfie matched someone');
  assert.ok(out.request.review!.items.every((i) => i.decision === 'rejected'));
  await v.close();
});

test('rejecting the selfie evidence does not skip the Art. 17(3) review of data held under a legal obligation', async () => {
  const { v, mail } = await ruleVeil();
  await legalPurpose(v, 'watch');
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'hal', { email: 'hal@example.org' });
  await v.gallery.enroll(admin, {
    purpose: 'watch',
    subjectId: p.subjectId,
    sourceReference: 'case 9',
    images: [fakePhoto('hal', 'w')],
  });
  const r = await verified(v, mail, 'erasure', 'hal@example.org', fakePhoto('nobody'));
  await v.rights.queue.review(admin, r.id, { decision: 'reject', note: 'selfie is not the requester' });
  assert.equal(await code(v.rights.queue.fulfil(admin, r.id)), 'INVALID_STATE', 'the basis review comes first');
  const q = await v.rights.queue.get(admin, r.id);
  assert.deepEqual(
    q.review?.items.filter((i) => !i.decision).map((i) => [i.subjectId, i.why]),
    [[p.subjectId, 'non-consent-purpose']],
  );
  assert.equal(await state(v, p.subjectId), 'active');
  // Kept under the legal obligation: only what rested on consent goes.
  await v.rights.queue.review(admin, r.id, { decision: 'reject', note: 'kept under Act 12 s.3' });
  await v.rights.queue.fulfil(admin, r.id);
  assert.equal(await state(v, p.subjectId), 'active');
  assert.equal((await v.consents.get(admin, p.consent.id)).state, 'withdrawn');
  await v.close();
});

test('retention of one purpose does not erase what a subject holds under another', async () => {
  const { v, clock } = await ruleVeil();
  await legalPurpose(v, 'watch');
  await consentPurpose(v, 'events');
  const { consent } = await v.consents.give(admin, {
    purpose: 'events',
    noticeText: 'We match your face against event photos.',
    noticeVersion: '1',
    method: 'api',
    collector: 'r',
    expiresAt: new Date(clock.now().getTime() + 86_400_000).toISOString(),
  });
  await v.gallery.enroll(admin, {
    purpose: 'watch',
    subjectId: consent.subjectId,
    sourceReference: 'case 4',
    images: [fakePhoto('ivo')],
  });
  clock.advance(2 * 86_400_000);
  const plan = await v.retention.run(admin, { dryRun: false });
  assert.deepEqual(
    plan.enrollments.map((e) => e.action),
    ['remove-purpose'],
  );
  assert.equal(await state(v, consent.subjectId), 'active');
  assert.equal((await v.consents.get(admin, consent.id)).state, 'expired');
  await v.close();
});

test('one export file per request, gone after the 30 days its row promises', async () => {
  const { v, mail, clock } = await ruleVeil();
  await consentPurpose(v, 'events');
  await person(v, 'events', 'eve', { email: 'eve@example.org' });
  const r = await verified(v, mail, 'access', 'eve@example.org');
  for (let i = 0; i < 3; i++) await v.rights.self.answer(r.id, r.token);
  const dir = join(v.dataDir, 'exports');
  assert.equal(readdirSync(dir).length, 1);
  assert.equal((await manifest(v, r.id, r.token)).subjects.length, 1);
  clock.advance(31 * 86_400_000);
  await v.ops.hourly('rules', () => undefined);
  assert.deepEqual(readdirSync(dir), []);
  assert.equal(await code(v.rights.self.download(r.id, r.token)), 'NOT_FOUND');
  await v.close();
});

test('a face enrolled in the portal (a live selfie, an address proven by code) is disclosed to that address at once', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const s = await v.services.portal.start({ purpose: 'events', email: 'a@example.org', language: 'en' });
  await v.services.portal.confirm(s.enrollmentId, { code: mail.codeFor('a@example.org'), selfie: fakePhoto('zed') });
  const r = await verified(v, mail, 'access', 'a@example.org');
  await v.rights.self.answer(r.id, r.token);
  assert.equal((await manifest(v, r.id, r.token)).subjects[0].templates.length, 1);
  await v.close();
});

test('the portal holds a face already enrolled for another address instead of enrolling it again', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const owner = await person(v, 'events', 'ivy', { email: 'ivy@example.org' });
  const s = await v.services.portal.start({ purpose: 'events', email: 'thief@example.org', language: 'en' });
  const out = await v.services.portal.confirm(s.enrollmentId, {
    code: mail.codeFor('thief@example.org'),
    selfie: fakePhoto('ivy', 'stolen'),
  });
  assert.notEqual(out.subjectId, owner.subjectId);
  assert.deepEqual(
    (await subjectRepository.templates(v.store.db, { subjectId: out.subjectId as never })).length,
    0,
    'no template for the second address',
  );
  assert.equal((await v.services.portal.held(admin)).length, 1);
  await v.close();
});

test('wrong codes sent at once are counted before they are compared: five tries, not one per request in flight', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const r = await v.rights.intake.submit({ kind: 'access', email: 'gus@example.org' });
  const right = mail.codeFor('gus@example.org');
  const wrong = right === '000000' ? '111111' : '000000';
  const codes = await Promise.all(
    Array.from({ length: 12 }, () => code(v.rights.intake.verify(r.requestId, { code: wrong }))),
  );
  assert.equal(codes.filter((c) => c === 'CODE_INVALID').length, 4);
  assert.equal(codes.filter((c) => c === 'REQUEST_LOCKED').length, 8);
  assert.equal(await code(v.rights.intake.verify(r.requestId, { code: right })), 'REQUEST_LOCKED');
  await v.close();
});

test('two correct codes at once: one verification, one token', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const r = await v.rights.intake.submit({ kind: 'access', email: 'hub@example.org' });
  const c = mail.codeFor('hub@example.org');
  const both = await Promise.allSettled([
    v.rights.intake.verify(r.requestId, { code: c }),
    v.rights.intake.verify(r.requestId, { code: c }),
  ]);
  const ok = both.filter((x) => x.status === 'fulfilled');
  assert.equal(ok.length, 1);
  const token = (ok[0] as PromiseFulfilledResult<{ downloadToken: string }>).value.downloadToken;
  assert.equal((await v.rights.self.outcome(r.requestId, token)).state, 'verified');
  await v.close();
});

test('the embedded outbox keeps mail a week: after an erasure only the confirmation is left, then nothing', async () => {
  const { v, clock } = await ruleVeil();
  void v;
  await v.close();
  const { openVeil } = await import('../../src/app/veil.js');
  const { FakeAnalyzer } = await import('../../support/fake-analyzer.js');
  const { engineOptions, tempDir } = await import('../helpers.js');
  const dir = tempDir('veil-outbox-');
  const w = await openVeil({ ...(await engineOptions()), dataDir: dir, clock, engine: new FakeAnalyzer() });
  await consentPurpose(w, 'events');
  const p = await person(w, 'events', 'gus', { email: 'gus@example.org' });
  const r = await w.rights.intake.submit({ kind: 'erasure', email: 'gus@example.org' });
  const outbox = join(dir, 'outbox');
  const { readFileSync } = await import('node:fs');
  const mails = () => readdirSync(outbox).map((f) => readFileSync(join(outbox, f), 'utf8'));
  const c = /\b(\d{6})\b/.exec(mails()[0]!.split('\r\n\r\n')[1]!)![1]!;
  const ver = await w.rights.intake.verify(r.requestId, { code: c });
  await w.rights.self.followUp(r.requestId, ver.downloadToken, 'erasure');
  assert.equal(await state(w, p.subjectId), 'erased');
  const left = mails().filter((m) => m.includes('To: gus@example.org'));
  assert.equal(left.length, 1, 'the code mail went with the person; the confirmation Art. 12(3) owes them stays');
  assert.ok(!left[0]!.includes(c), 'no code in what is left');
  clock.advance(8 * 86_400_000);
  await w.ops.hourly('rules', () => undefined);
  assert.deepEqual(mails(), []);
  await w.close();
});

test('a DPO key bound to one purpose cannot work the rights queue, which spans every purpose', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  await person(v, 'beta', 'kai');
  const dpoAlpha = keyActor('dpo', ['alpha'], 'key_dpo_alpha');
  const r = await verified(v, mail, 'erasure', 'someone@example.org', fakePhoto('kai', 's'));
  assert.equal(await code(v.rights.queue.get(dpoAlpha, r.id)), 'FORBIDDEN');
  assert.equal(
    await code(v.rights.queue.review(dpoAlpha, r.id, { decision: 'approve', note: 'looks alike' })),
    'FORBIDDEN',
  );
  assert.equal(await code(v.rights.queue.get(keyActor('dpo', '*'), r.id)), 'OK');
  await v.close();
});

test('a bound key cannot tell a missing purpose or consent from another purpose’s', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const b = await person(v, 'beta', 'lou');
  const op = keyActor('operator', ['alpha']);
  assert.equal(await code(v.consents.get(op, b.consent.id)), 'NOT_FOUND');
  assert.equal(await code(v.consents.get(op, 'con_doesnotexist')), 'NOT_FOUND');
  assert.equal(await code(v.consents.withdraw(op, b.consent.id)), 'NOT_FOUND');
  const probe = (ref: string) => code(v.gallery.enroll(op, { purpose: ref, images: [fakePhoto('x')] }));
  assert.equal(await probe('beta'), await probe('no-such-purpose'));
  assert.equal((await v.consents.get(admin, b.consent.id)).state, 'given');
  await v.close();
});

test('a rectification fulfilled after the person was erased puts no contact (and no new key) on the tombstone', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'lea', { email: 'lea@example.org' });
  const rect = await v.rights.intake.submit({ kind: 'rectification', email: 'lea@example.org' });
  await v.rights.intake.verify(rect.requestId, { code: mail.codeFor('lea@example.org') });
  await v.lifecycle.erase([p.subjectId], admin, null);
  await v.rights.queue.fulfil(admin, rect.requestId, { newEmail: 'lea.new@example.org' });
  const s = (await subjectRepository.get(v.store.db, p.subjectId))!;
  assert.equal(s.state, 'erased');
  assert.equal(s.contactSealed, null);
  assert.equal(await keySlotRepository.slotOf(v.store.db, p.subjectId), undefined);
  await v.close();
});

test('after consent is withdrawn, the purpose’s photos no longer name the person', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'max');
  const m = await v.media.ingest(admin, 'events', { name: 'g.jpg', bytes: fakeGroup('max', 'stranger') });
  assert.ok(m.status === 'ingested' && m.sightings === 1);
  await v.consents.withdraw(admin, p.consent.id);
  const op = keyActor('operator', ['events']);
  const faces = await v.media.faces(op, m.mediaId);
  assert.deepEqual(
    faces.filter((f) => f.subjectId),
    [],
  );
  await v.close();
});

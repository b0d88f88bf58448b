import { test } from 'node:test';
import assert from 'node:assert/strict';
import { strFromU8, unzipSync } from 'fflate';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { admin, code, consentPurpose, fakePhoto, legalPurpose, person, ruleVeil, why } from './fixture.js';

// A face is not a secret: a proven address links what it holds; a selfie match never acts by itself.

async function verified(
  v: Awaited<ReturnType<typeof ruleVeil>>['v'],
  mail: Awaited<ReturnType<typeof ruleVeil>>['mail'],
  kind: 'access' | 'erasure' | 'restriction' | 'objection',
  email: string,
  selfie?: Uint8Array,
) {
  const r = await v.rights.intake.submit({ kind, email });
  const ver = await v.rights.intake.verify(r.requestId, {
    code: mail.codeFor(email),
    ...(selfie ? { selfies: [selfie] } : {}),
  });
  return { id: r.requestId, token: ver.downloadToken, answer: ver };
}

const stillThere = async (v: Awaited<ReturnType<typeof ruleVeil>>['v'], subjectId: string) =>
  (await subjectRepository.get(v.store.db, subjectId))!.state;

test("a stranger's own mailbox plus a victim's photo releases nothing and erases nobody without the DPO", async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const victim = await person(v, 'events', 'victim', { email: 'victim@example.org' });
  const access = await verified(v, mail, 'access', 'attacker@example.org', fakePhoto('victim', 'stolen'));
  assert.deepEqual(Object.keys(access.answer).sort(), ['downloadToken', 'state'], 'the answer says nothing of a match');
  const answer = await v.rights.self.answer(access.id, access.token);
  assert.equal(answer.review, 'pending');
  assert.equal(answer.outcome?.['subjects'], 0, 'nothing linked to the attacker address is released');
  // The export is deflated: read its manifest, not its compressed bytes.
  const zip = unzipSync(new Uint8Array((await v.rights.self.download(access.id, access.token)).bytes));
  const manifest = strFromU8(zip['manifest.json']!);
  assert.deepEqual(JSON.parse(manifest).subjects, [], 'nothing released before review');
  assert.ok(!manifest.includes(victim.subjectId), 'the export does not contain the victim');
  const erase = await v.rights.self.followUp(access.id, access.token, 'erasure');
  assert.equal(erase.request.review?.state, 'pending');
  assert.equal(await stillThere(v, victim.subjectId), 'active', 'not erased by a photo');
  // The DPO sees the evidence and rejects it: nothing was ever disclosed or done.
  const queued = await v.rights.queue.get(admin, erase.requestId);
  assert.deepEqual(
    queued.review?.items.map((i) => [i.subjectId, i.why]),
    [[victim.subjectId, 'face-only']],
  );
  assert.match(queued.review?.liveness ?? '', /^passed \(score 0\.9800;/);
  await v.rights.queue.review(admin, erase.requestId, {
    decision: 'reject',
    note: 'the requester is not the person in the photo',
  });
  await v.rights.queue.fulfil(admin, erase.requestId);
  assert.equal(await stillThere(v, victim.subjectId), 'active');
  await v.close();
});

test('the answer to a selfie is the same whether it matched someone or no one', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  await person(v, 'events', 'known');
  const hit = await verified(v, mail, 'access', 'one@example.org', fakePhoto('known', '2'));
  const miss = await verified(v, mail, 'access', 'two@example.org', fakePhoto('nobody', '1'));
  const a = await v.rights.self.answer(hit.id, hit.token);
  const b = await v.rights.self.answer(miss.id, miss.token);
  const shape = (x: typeof a) => ({ ...x, dueAt: '', outcome: { ...x.outcome, artifactId: '' } });
  assert.deepEqual(shape(a), shape(b));
  await v.close();
});

test('an email code alone acts at once on what the address links', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'gil', { email: 'gil@example.org' });
  const r = await verified(v, mail, 'erasure', 'gil@example.org');
  const out = await v.rights.self.followUp(r.id, r.token, 'erasure');
  assert.equal(out.request.state, 'fulfilled');
  assert.equal(await stillThere(v, p.subjectId), 'erased');
  await v.close();
});

test('erasure or restriction of data held under another basis than consent always waits for the DPO', async () => {
  const { v, mail } = await ruleVeil();
  await legalPurpose(v, 'watch');
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'hugo', { email: 'hugo@example.org' });
  await v.gallery.enroll(admin, {
    purpose: 'watch',
    subjectId: p.subjectId,
    sourceReference: 'case file 3',
    images: [fakePhoto('hugo', 'w')],
  });
  const r = await verified(v, mail, 'erasure', 'hugo@example.org');
  const out = await v.rights.self.followUp(r.id, r.token, 'erasure');
  assert.equal(out.request.state, 'in_progress');
  assert.deepEqual(
    out.request.review?.items.map((i) => i.why),
    ['non-consent-purpose'],
  );
  assert.equal(await stillThere(v, p.subjectId), 'active');
  assert.equal(await code(v.rights.queue.fulfil(admin, out.requestId)), 'INVALID_STATE');
  const done = await v.rights.queue.review(admin, out.requestId, {
    decision: 'approve',
    note: 'no Art. 17(3) exception applies',
  });
  assert.equal(done.request.state, 'fulfilled');
  assert.equal(await stillThere(v, p.subjectId), 'erased');
  await v.close();
});

test('portal enrollment proves the address first, and a face on the do-not-enroll list gets the same answer', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const start = await v.services.portal.start({ purpose: 'events', email: 'ivy@example.org', language: 'en' });
  assert.equal(
    await code(v.services.portal.confirm(start.enrollmentId, { code: '000000', selfie: fakePhoto('ivy') })),
    mail.codeFor('ivy@example.org') === '000000' ? 'OK' : 'CODE_INVALID',
  );
  const ok = await v.services.portal.confirm(start.enrollmentId, {
    code: mail.codeFor('ivy@example.org'),
    selfie: fakePhoto('ivy'),
  });
  assert.deepEqual(
    (await v.search.identify(admin, { purpose: 'events', image: fakePhoto('ivy', '2'), ...why })).candidates.map(
      (c) => c.subjectId,
    ),
    [ok.subjectId],
  );
  // Ivy objects; someone then enrolls her face again through the portal.
  const obj = await verified(v, mail, 'objection', 'ivy@example.org', fakePhoto('ivy', '3'));
  await v.rights.queue.review(admin, obj.id, { decision: 'approve', note: 'selfie matches the linked record' });
  await v.rights.queue.fulfil(admin, obj.id);
  const again = await v.services.portal.start({ purpose: 'events', email: 'someone@example.org', language: 'en' });
  const held = await v.services.portal.confirm(again.enrollmentId, {
    code: mail.codeFor('someone@example.org'),
    selfie: fakePhoto('ivy', '4'),
  });
  assert.deepEqual(Object.keys(held).sort(), Object.keys(ok).sort(), 'the same answer as an enrollment');
  assert.deepEqual(
    (await v.search.identify(admin, { purpose: 'events', image: fakePhoto('ivy', '5'), ...why })).candidates,
    [],
    'not enrolled',
  );
  assert.equal((await v.services.portal.held(admin)).length, 1, 'the DPO sees it');
  await v.close();
});

test('a request interrupted mid-fulfilment resumes by itself', async () => {
  const { v, clock, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'jo', { email: 'jo@example.org' });
  const r = await verified(v, mail, 'erasure', 'jo@example.org');
  // What a crash leaves: the request moved to in_progress with a run started, nothing erased.
  const { requestRepository } = await import('../../src/rights/request.repository.js');
  await requestRepository.update(v.store.db, r.id, {
    state: 'in_progress',
    fulfil_started_at: clock.now().toISOString(),
  });
  assert.equal(await v.rights.queue.resumeInterrupted(), 0, 'a run just started is not interrupted yet');
  clock.advance(11 * 60_000);
  assert.equal(await v.rights.queue.resumeInterrupted(), 1);
  assert.equal((await v.rights.queue.get(admin, r.id)).state, 'fulfilled');
  assert.equal(await stillThere(v, p.subjectId), 'erased');
  await v.close();
});

test('codes are resent a few times per request at most', async () => {
  const { v, mail } = await ruleVeil({ VEIL_LIMITS_CODE_RESENDS_PER_REQUEST: '2' });
  const r = await v.rights.intake.submit({ kind: 'access', email: 'kim@example.org' });
  await v.rights.intake.resendCode(r.requestId);
  await v.rights.intake.resendCode(r.requestId);
  assert.equal(await code(v.rights.intake.resendCode(r.requestId)), 'RATE_LIMITED');
  assert.equal(mail.sent.filter((m) => m.to === 'kim@example.org').length, 3);
  await v.close();
});

test('a selfie judged not live never passes silently: the code stays good for a retake or no selfie', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  await person(v, 'events', 'june', { email: 'june@example.org' });
  const r = await v.rights.intake.submit({ kind: 'access', email: 'june@example.org' });
  const c = mail.codeFor('june@example.org');
  const refused = v.rights.intake.verify(r.requestId, { code: c, selfies: [fakePhoto('june', 'spoof')] });
  assert.equal(await code(refused), 'LIVENESS_FAILED');
  assert.equal((await v.rights.queue.get(admin, r.requestId)).state, 'identity_pending', 'nothing recorded');
  const retake = await v.rights.intake.verify(r.requestId, { code: c, selfies: [fakePhoto('june', '2')] });
  assert.equal(retake.state, 'verified');
  const queued = await v.rights.queue.get(admin, r.requestId);
  assert.match(
    queued.review?.liveness ?? '',
    /^passed \(score 0\.9800; faceplugin-fr_liveness@0\.0\.1, threshold 0\.3\)$/,
  );
  // The emailed code alone is the other way through.
  const r2 = await v.rights.intake.submit({ kind: 'access', email: 'june@example.org' });
  const c2 = mail.codeFor('june@example.org');
  assert.equal(
    await code(v.rights.intake.verify(r2.requestId, { code: c2, selfies: [fakePhoto('june', 'spoof')] })),
    'LIVENESS_FAILED',
  );
  assert.equal((await v.rights.intake.verify(r2.requestId, { code: c2 })).state, 'verified');
  assert.equal((await v.rights.queue.get(admin, r2.requestId)).review, null, 'no selfie, no face evidence');
  await v.close();
});

test('a portal selfie judged not live enrolls nobody and records no consent; a retake does', async () => {
  const { v, mail } = await ruleVeil();
  await consentPurpose(v, 'events');
  const start = await v.services.portal.start({ purpose: 'events', email: 'kim@example.org', language: 'en' });
  const c = mail.codeFor('kim@example.org');
  assert.equal(
    await code(v.services.portal.confirm(start.enrollmentId, { code: c, selfie: fakePhoto('kim', 'spoof') })),
    'LIVENESS_FAILED',
  );
  const probe = { purpose: 'events', image: fakePhoto('kim', '2'), ...why };
  assert.deepEqual((await v.search.identify(admin, probe)).candidates, [], 'not enrolled');
  const ok = await v.services.portal.confirm(start.enrollmentId, { code: c, selfie: fakePhoto('kim') });
  assert.deepEqual(
    (await v.search.identify(admin, probe)).candidates.map((x) => x.subjectId),
    [ok.subjectId],
  );
  await v.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { consentRepository } from '../../src/privacy/consent.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { actors } from '../../src/auth/actor.js';
import { admin, code, consentPurpose, fakePhoto, person, ruleVeil, why } from './fixture.js';

// Every way face data stops being matched goes through FaceDataLifecycle: these are its rules.

const found = async (v: Awaited<ReturnType<typeof ruleVeil>>['v'], purpose: string, who: string) =>
  (await v.search.identify(admin, { purpose, image: fakePhoto(who, 'probe'), ...why })).candidates.map(
    (c) => c.subjectId,
  );

test('withdrawing consent stops matching at once, deletes the templates and ends the history in "withdrawn"', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'amy');
  assert.deepEqual(await found(v, 'events', 'amy'), [p.subjectId]);
  const r = await v.consents.withdraw(admin, p.consent.id);
  assert.equal(r.templatesDeleted, 1);
  assert.deepEqual(await found(v, 'events', 'amy'), []);
  assert.equal(v.index.templatesOf(p.subjectId).length, 0);
  const c = (await consentRepository.get(v.store.db, p.consent.id))!;
  assert.deepEqual(
    c.history.map((h) => h.state),
    ['given', 'withdrawn'],
  );
  assert.equal((await subjectRepository.templates(v.store.db, { subjectId: p.subjectId })).length, 0);
  assert.deepEqual(
    (await v.consents.withdraw(admin, p.consent.id)).templatesDeleted,
    0,
    'a second withdrawal is answered',
  );
  await v.close();
});

test('retention expiring a consent under one purpose writes its history event and keeps the other purpose', async () => {
  const { v, clock } = await ruleVeil();
  const a = await consentPurpose(v, 'short', { retention: 'P10D' });
  await consentPurpose(v, 'long', { retention: 'P1Y' });
  const p = await person(v, 'long', 'bea');
  const { consent } = await v.consents.give(admin, {
    purpose: 'short',
    subjectId: p.subjectId,
    noticeText: 'We match your face for a short event pass, kept ten days.',
    noticeVersion: '1',
    method: 'api',
    collector: 'desk',
    expiresAt: '2026-06-05T00:00:00.000Z',
  });
  await v.gallery.enroll(admin, { purpose: 'short', consentId: consent.id, images: [fakePhoto('bea', '2')] });
  clock.advance(5 * 86_400_000);
  const plan = await v.retention.run(admin, { dryRun: false });
  assert.deepEqual(
    plan.enrollments.map((e) => [e.purpose, e.reason, e.action]),
    [['short', 'consent-expired', 'remove-purpose']],
  );
  const after = (await consentRepository.get(v.store.db, consent.id))!;
  assert.equal(after.state, 'expired');
  assert.deepEqual(
    after.history.map((h) => [h.state, h.actor]),
    [
      ['given', 'api-key:key_operator'],
      ['expired', 'system:retention'],
    ],
  );
  assert.deepEqual(await found(v, 'short', 'bea'), []);
  assert.deepEqual(await found(v, 'long', 'bea'), [p.subjectId]);
  const templates = await subjectRepository.templates(v.store.db, { subjectId: p.subjectId });
  assert.ok(templates.every((t) => t.purposeId !== a.id));
  const size = await v.auditLog.size(v.store.db);
  const actions = (await auditRepository.entries(v.store.db, 1, size)).map((e) => JSON.parse(e.body).action);
  assert.ok(actions.includes('consent.expired'));
  await v.close();
});

test('restriction takes a subject out of matching and lifting puts them back, each in the audit log', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'cal');
  const dpo = actors.system('dpo-test');
  await v.subjects.setRestricted(dpo, p.subjectId, true, 'contested accuracy');
  assert.deepEqual(await found(v, 'events', 'cal'), []);
  assert.equal(
    await code(v.gallery.enroll(admin, { purpose: 'events', subjectId: p.subjectId, images: [fakePhoto('cal', '3')] })),
    'SUBJECT_RESTRICTED',
  );
  await v.subjects.setRestricted(dpo, p.subjectId, false, 'resolved');
  assert.deepEqual(await found(v, 'events', 'cal'), [p.subjectId]);
  await v.close();
});

// The restore journal's replay takes each person's last restriction line as their state: the lines must
// be in the order the changes committed. A lift's line used to follow its commit and the index reload,
// so a restriction committed in between came first in the file and a restore lifted it again.
test('a restriction set right after a lift commits stays the last restriction line of the journal', async () => {
  const { v } = await ruleVeil();
  try {
    await consentPurpose(v, 'events');
    const p = await person(v, 'events', 'cal');
    const dpo = actors.system('dpo-test');
    await v.subjects.setRestricted(dpo, p.subjectId, true, 'first');
    const lifecycle = v.lifecycle as unknown as { reload: (s: string) => Promise<void> };
    const reload = lifecycle.reload.bind(lifecycle);
    let raced = false;
    lifecycle.reload = async (s) => {
      if (!raced) {
        raced = true; // The lift has committed; another request restricts the person again.
        await v.subjects.setRestricted(dpo, p.subjectId, true, 'second');
      }
      return reload(s);
    };
    await v.subjects.setRestricted(dpo, p.subjectId, false, 'lift');
    assert.ok(raced, 'the race ran');
    assert.equal((await subjectRepository.get(v.store.db, p.subjectId))?.state, 'restricted');
    const lines = v.keyring.journal.read().flatMap((e) => (e.kind === 'restriction' ? [e.restricted] : []));
    assert.deepEqual(lines, [true, false, true]);
  } finally {
    await v.close();
  }
});

test('erasure leaves a tombstone and nothing else: no template, consent, enrollment, key or index entry', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events', { keepSourceImages: true });
  const p = await person(v, 'events', 'dan', { email: 'dan@example.org' });
  await v.search.identify(admin, { purpose: 'events', image: fakePhoto('dan', '2'), ...why });
  const cert = await v.lifecycle.erase([p.subjectId], admin, null);
  assert.equal(cert.subjects[0]!.templates, 1);
  assert.equal(cert.subjects[0]!.searchResults, 1);
  assert.equal(cert.subjects[0]!.keyShredded, true);
  const s = (await subjectRepository.get(v.store.db, p.subjectId))!;
  assert.deepEqual([s.state, s.contactHash, s.contactSealed, s.region], ['erased', null, null, null]);
  assert.equal((await consentRepository.forSubject(v.store.db, p.subjectId)).length, 0);
  assert.equal((await subjectRepository.enrollments(v.store.db, p.subjectId)).length, 0);
  assert.equal(await code(v.keyring.get(v.store.db, p.subjectId)), 'KEY_DESTROYED');
  assert.equal(v.index.templatesOf(p.subjectId).length, 0);
  assert.deepEqual(await found(v, 'events', 'dan'), []);
  const again = await v.lifecycle.erase([p.subjectId], admin, null);
  assert.equal(again.subjects[0]!.alreadyErased, true);
  await v.close();
});

test('a rectification removes only the named template of the person, and refuses one of someone else', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'eve');
  const extra = await v.gallery.enroll(admin, {
    purpose: 'events',
    subjectId: p.subjectId,
    images: [fakePhoto('eve', '2')],
  });
  const other = await person(v, 'events', 'fay');
  assert.equal(await code(v.lifecycle.removeTemplates(p.subjectId, [other.templateId], admin, {})), 'NOT_FOUND');
  assert.equal(
    await v.lifecycle.removeTemplates(p.subjectId, [extra.templates[0]!.templateId], admin, {
      reason: 'rectification',
    }),
    1,
  );
  assert.deepEqual(v.index.templatesOf(p.subjectId), [p.templateId]);
  await v.close();
});

test('a consent past its expiry stops matching at the next minute check, not the next hourly run', async () => {
  const { v, clock } = await ruleVeil();
  await consentPurpose(v, 'pass');
  const { consent } = await v.consents.give(admin, {
    purpose: 'pass',
    noticeText: 'We match your face at the gate for one day.',
    noticeVersion: '1',
    method: 'api',
    collector: 'desk',
    expiresAt: new Date(clock.now().getTime() + 3_600_000).toISOString(),
  });
  const e = await v.gallery.enroll(admin, { purpose: 'pass', consentId: consent.id, images: [fakePhoto('eve')] });
  assert.equal(await v.ops.expireConsents('rules'), false, 'nothing due yet: no retention run');
  assert.deepEqual(await found(v, 'pass', 'eve'), [e.subjectId]);
  clock.advance(3_600_000 + 1_000);
  assert.equal(await v.ops.expireConsents('rules'), true);
  // Her only enrollment rested on it: retention erased her whole, consent record included.
  assert.equal(await consentRepository.get(v.store.db, consent.id), undefined);
  assert.deepEqual(await found(v, 'pass', 'eve'), []);
  assert.equal(await v.ops.expireConsents('rules'), false, 'done once');
  await v.close();
});

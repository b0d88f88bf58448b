import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actors } from '../../src/auth/actor.js';
import {
  admin,
  code,
  consentPurpose,
  fakePhoto,
  keyActor,
  legalPurpose,
  NOTICE,
  person,
  ruleVeil,
  why,
} from './fixture.js';

// Authorization is decided inside the services (src/auth/policy.ts): each rule here is called on
// the service, as every route and command calls it.

test('a key bound to purpose A does not see a subject enrolled only under B (404, not 403: no probing)', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const onlyB = await person(v, 'beta', 'bob');
  const keyA = keyActor('operator', ['alpha']);
  assert.equal(await code(v.subjects.get(keyA, onlyB.subjectId)), 'UNKNOWN_SUBJECT');
  assert.equal(await code(v.subjects.sightings(keyA, onlyB.subjectId)), 'UNKNOWN_SUBJECT');
  assert.equal(await code(v.subjects.get(keyActor('dpo', ['alpha']), onlyB.subjectId)), 'UNKNOWN_SUBJECT');
  assert.equal((await v.subjects.get(keyActor('operator', ['beta']), onlyB.subjectId)).id, onlyB.subjectId);
  await v.close();
});

test('a subject shared by two purposes shows each key only its own purposes', async () => {
  const { v } = await ruleVeil();
  const a = await consentPurpose(v, 'alpha');
  const b = await consentPurpose(v, 'beta');
  const p = await person(v, 'alpha', 'carol');
  await person(v, 'beta', 'carol', { subjectId: p.subjectId });
  const seenByA = await v.subjects.get(keyActor('operator', ['alpha']), p.subjectId);
  assert.deepEqual([...new Set(seenByA.consents.map((c) => c.purposeId))], [a.id]);
  assert.deepEqual([...new Set(seenByA.templates.map((t) => t.purposeId))], [a.id]);
  const seenByAll = await v.subjects.get(admin, p.subjectId);
  assert.deepEqual(new Set(seenByAll.consents.map((c) => c.purposeId)), new Set([a.id, b.id]));
  await v.close();
});

test("a consent with A's key naming a subject of B is refused, and cannot overwrite their contact", async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const victim = await person(v, 'beta', 'dana', { email: 'dana@example.org' });
  const keyA = keyActor('operator', ['alpha']);
  const attempt = v.consents.give(keyA, {
    purpose: 'alpha',
    subjectId: victim.subjectId,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'attacker',
    contactEmail: 'attacker@example.org',
  });
  assert.equal(await code(attempt), 'UNKNOWN_SUBJECT');
  assert.equal(
    await code(
      v.gallery.enroll(keyA, { purpose: 'alpha', subjectId: victim.subjectId, images: [fakePhoto('mallory')] }),
    ),
    'UNKNOWN_SUBJECT',
  );
  // Even a key that may see the subject cannot replace the address by giving a consent.
  const replace = v.consents.give(admin, {
    purpose: 'alpha',
    subjectId: victim.subjectId,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'desk',
    contactEmail: 'attacker@example.org',
  });
  assert.equal(await code(replace), 'CONFLICT');
  // The same address is fine: a second purpose for the same person.
  const ok = await v.consents.give(admin, {
    purpose: 'alpha',
    subjectId: victim.subjectId,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'desk',
    contactEmail: 'DANA@example.org',
  });
  assert.equal(ok.consent.subjectId, victim.subjectId);
  await v.close();
});

test('roles: each service refuses the roles its permission does not list', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  const auditor = keyActor('auditor', '*');
  const operator = keyActor('operator', ['alpha']);
  const investigator = keyActor('investigator', ['alpha']);
  assert.equal(
    await code(v.search.identify(auditor, { purpose: 'alpha', image: fakePhoto('x'), ...why })),
    'FORBIDDEN',
  );
  assert.equal(
    await code(
      v.purposes.create(operator, {
        key: 'zz',
        name: 'z',
        description: 'twenty characters at least',
        lawfulBasis: 'consent',
      }),
    ),
    'FORBIDDEN',
  );
  assert.equal(await code(v.apiKeys.list(keyActor('dpo', '*'))), 'FORBIDDEN');
  assert.equal(await code(v.rights.queue.list(operator)), 'FORBIDDEN');
  assert.equal(await code(v.audit.head(operator)), 'FORBIDDEN');
  assert.equal(await code(v.gallery.detect(actors.public(), fakePhoto('x'))), 'UNAUTHENTICATED');
  assert.equal(
    await code(v.search.identify(investigator, { purpose: 'alpha', image: fakePhoto('x'), justification: 'no case' })),
    'CASE_REF_REQUIRED',
  );
  assert.equal(
    await code(v.search.identify(investigator, { purpose: 'alpha', image: fakePhoto('x'), caseRef: 'C-1' })),
    'OK',
  );
  await v.close();
});

test('purpose binding covers every purpose-scoped read, and a suspended purpose stops processing but not reading', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const p = await person(v, 'beta', 'erin');
  const keyA = keyActor('operator', ['alpha']);
  // Another purpose's consent reads as no consent at all: its id cannot be probed.
  assert.equal(await code(v.consents.get(keyA, p.consent.id)), 'NOT_FOUND');
  assert.equal(await code(v.consents.receipt(keyA, p.consent.id)), 'NOT_FOUND');
  assert.equal(await code(v.consents.withdraw(keyA, p.consent.id)), 'NOT_FOUND');
  assert.equal(await code(v.purposes.get(keyA, 'beta')), 'FORBIDDEN');
  assert.deepEqual(
    (await v.purposes.list(keyA)).map((x) => x.key),
    ['alpha'],
  );
  await v.purposes.setSuspended(admin, 'beta', true, 'order of the authority');
  const keyB = keyActor('operator', ['beta']);
  assert.equal(
    await code(v.search.identify(keyB, { purpose: 'beta', image: fakePhoto('erin', '2'), ...why })),
    'PURPOSE_SUSPENDED',
  );
  assert.equal(
    await code(v.gallery.enroll(keyB, { purpose: 'beta', consentId: p.consent.id, images: [fakePhoto('erin', '3')] })),
    'PURPOSE_SUSPENDED',
  );
  assert.equal((await v.consents.get(keyB, p.consent.id)).id, p.consent.id);
  await v.close();
});

test('a search names its reason with visible characters: a zero-width space or a NUL is not one', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  const probe = fakePhoto('x');
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, justification: '\u200b\u200b' })),
    'CASE_REF_REQUIRED',
  );
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, caseRef: '\u200b' })),
    'CASE_REF_REQUIRED',
  );
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, justification: 'ok\u0000' })),
    'INVALID_INPUT',
  );
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, justification: ' find my photos ' })),
    'OK',
  );
  await v.close();
});

test('clients may raise the decision threshold, never lower it below the calibrated floor', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await person(v, 'alpha', 'finn');
  const probe = fakePhoto('gus');
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, threshold: -1, ...why })),
    'INVALID_INPUT',
  );
  assert.equal(
    await code(v.search.identify(admin, { purpose: 'alpha', image: probe, threshold: 0.2, ...why })),
    'INVALID_INPUT',
  );
  assert.equal(
    await code(
      v.search.verify(admin, {
        purpose: 'alpha',
        image: probe,
        secondImage: fakePhoto('hal'),
        threshold: 0.01,
        ...why,
      }),
    ),
    'INVALID_INPUT',
  );
  const strict = await v.search.identify(admin, {
    purpose: 'alpha',
    image: fakePhoto('finn', '2'),
    threshold: 0.95,
    ...why,
  });
  assert.equal(strict.threshold, 0.95);
  assert.equal(strict.decision, 'no-match', 'a stricter threshold is honoured');
  const normal = await v.search.identify(admin, { purpose: 'alpha', image: fakePhoto('finn', '2'), ...why });
  assert.equal(normal.decision, 'match');
  await v.close();
});

test('a legal-obligation purpose enrolls with a source reference, never on a consent', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  assert.equal(
    await code(v.gallery.enroll(admin, { purpose: 'watch', images: [fakePhoto('ivy')] })),
    'SOURCE_REFERENCE_REQUIRED',
  );
  const r = await v.gallery.enroll(admin, {
    purpose: 'watch',
    sourceReference: 'warrant 7',
    images: [fakePhoto('ivy')],
  });
  assert.ok(r.subjectId);
  await v.close();
});

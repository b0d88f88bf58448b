import { test } from 'node:test';
import assert from 'node:assert/strict';
import { aliasRepository } from '../../src/compreface/alias.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { fakeGroup } from '../../support/fake-analyzer.js';
import { COMPREFACE_MATCH } from '../../src/compreface/similarity.js';
import { NOTICE, admin, code, consentPurpose, fakePhoto, legalPurpose, ruleVeil } from './fixture.js';
import type { Veil } from '../../src/app/veil.js';
import type { Role } from '../../src/auth/actor.js';

// The CompreFace-compatible API's rules: names are purpose-scoped aliases, faces need consent (or the
// key's source reference), removal goes through the face-data lifecycle, and nothing below the
// decision threshold is named.

const NO_OPTS = { plugins: new Set<never>(), status: false };

async function compatKey(v: Veil, purpose: string, role: Role = 'operator', sourceReference?: string) {
  const { token } = await v.compreface.keys.create(admin, { role, purpose, sourceReference });
  return v.apiKeys.authenticate(token);
}

async function consentWithAlias(v: Veil, purpose: string, alias: string, subjectId?: string) {
  return v.consents.give(admin, {
    purpose,
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'desk',
    alias,
    ...(subjectId ? { subjectId } : {}),
  });
}

async function actions(v: Veil): Promise<string[]> {
  const size = await v.auditLog.size(v.store.db);
  return (await auditRepository.entries(v.store.db, 1, size)).map((e) => JSON.parse(e.body).action as string);
}

test('a compatibility key is never issued to an investigator, for a case-reference purpose, or without a source under another basis', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  await consentPurpose(v, 'cases', { requiresCaseRef: true });
  await legalPurpose(v, 'watch');
  assert.equal(
    await code(v.compreface.keys.create(admin, { role: 'investigator', purpose: 'events' })),
    'INVALID_INPUT',
  );
  assert.equal(
    await code(v.compreface.keys.create(admin, { role: 'operator', purpose: 'cases' })),
    'CASE_REF_REQUIRED',
  );
  assert.equal(
    await code(v.compreface.keys.create(admin, { role: 'operator', purpose: 'watch' })),
    'SOURCE_REFERENCE_REQUIRED',
  );
  const op = (await import('../../support/actors.js')).keyActor('operator', ['events']);
  assert.equal(await code(v.compreface.keys.create(op, { role: 'operator', purpose: 'events' })), 'FORBIDDEN');
  assert.equal(await code(v.compreface.keys.create(admin, { role: 'operator', purpose: 'events' })), 'OK');
  // An ordinary key is not a compatibility key.
  const plain = await v.apiKeys.authenticate(
    (await v.apiKeys.create(admin, { name: 'plain', role: 'operator', purposes: ['events'] })).token,
  );
  assert.equal(await code(v.compreface.collection.listSubjects(plain)), 'FORBIDDEN');
  await v.close();
});

test('under consent a face is added only for a name linked to a valid consent, and the refusal says how to get one', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const key = await compatKey(v, 'events');
  const refused = await v.compreface.collection.addFace(key, 'Ann', fakePhoto('ann')).catch((e: Error) => e);
  assert.ok(refused instanceof Error && /consent/i.test(refused.message) && /alias/.test(refused.message));
  assert.equal((refused as { code?: string }).code, 'CONSENT_REQUIRED');
  await v.compreface.collection.addSubject(key, 'Ann');
  assert.equal(await code(v.compreface.collection.addFace(key, 'Ann', fakePhoto('ann'))), 'CONSENT_REQUIRED');
  // The operator links the consent to the name the client uses: the declared name is taken over.
  const { consent } = await consentWithAlias(v, 'events', 'ann');
  const added = await v.compreface.collection.addFace(key, 'ANN', fakePhoto('ann'));
  assert.equal(added.subject, 'Ann');
  assert.deepEqual((await v.compreface.collection.listSubjects(key)).subjects, ['Ann']);
  const t = await subjectRepository.templates(v.store.db, { subjectId: consent.subjectId });
  assert.deepEqual(
    t.map((x) => x.id),
    [added.image_id],
  );
  // A withdrawn consent: the lifecycle removes the templates and the name with them.
  await v.consents.withdraw(admin, consent.id);
  assert.deepEqual((await v.compreface.collection.listSubjects(key)).subjects, []);
  assert.equal(await code(v.compreface.collection.addFace(key, 'Ann', fakePhoto('ann'))), 'CONSENT_REQUIRED');
  await v.close();
});

test("under another basis the key's source reference is recorded and a new name is a new subject", async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  const key = await compatKey(v, 'watch', 'operator', 'Court order 2026/17');
  const r = await v.compreface.collection.addFace(key, 'Mr+Smith', fakePhoto('smith'));
  assert.equal(r.subject, 'Mr+Smith');
  const watch = (await v.purposes.list(admin)).find((p) => p.key === 'watch')!;
  const sid = (await aliasRepository.faces(v.store.db, watch.id))[0]!.subjectId;
  const e = await subjectRepository.enrollments(v.store.db, sid);
  assert.equal(e[0]!.source_reference, 'Court order 2026/17');
  // `+` for a space, and case, find the same subject.
  const again = await v.compreface.collection.addFace(key, 'mr+smith', fakePhoto('smith', '2'));
  assert.equal(again.subject, 'Mr+Smith');
  assert.equal((await v.compreface.collection.listFaces(key, { subject: 'MR+SMITH' })).total_elements, 2);
  await v.close();
});

test('recognize names only matches at or above the decision threshold (0.60 on the client scale), for every face', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  const key = await compatKey(v, 'watch', 'operator', 'Register 4');
  await v.compreface.collection.addFace(key, 'Bea', fakePhoto('bea'));
  const r = await v.compreface.recognition.recognize(key, fakeGroup('bea', 'stranger'), {
    ...NO_OPTS,
    predictionCount: 3,
  });
  assert.equal(r.result.length, 2);
  const named = r.result.flatMap((f) => f.subjects);
  assert.equal(named.length, 1);
  assert.equal(named[0]!.subject, 'Bea');
  assert.ok(named[0]!.similarity >= COMPREFACE_MATCH && named[0]!.similarity <= 1);
  assert.ok(
    r.result.some((f) => f.subjects.length === 0),
    'the stranger gets an empty list, never a low-scored name',
  );
  assert.equal(await code(v.compreface.recognition.recognize(key, fakePhoto('x').fill(0), NO_OPTS)), 'INVALID_IMAGE');
  assert.ok((await actions(v)).includes('search.performed'));
  await v.close();
});

test('deleting a subject erases them when no other purpose holds them, and only this purpose otherwise', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  await consentPurpose(v, 'club');
  const events = await compatKey(v, 'events');
  const club = await compatKey(v, 'club');
  const only = await consentWithAlias(v, 'events', 'Cy');
  await v.compreface.collection.addFace(events, 'Cy', fakePhoto('cy'));
  const both = await consentWithAlias(v, 'events', 'Dee');
  await consentWithAlias(v, 'club', 'Dee', both.consent.subjectId);
  await v.compreface.collection.addFace(events, 'Dee', fakePhoto('dee'));
  await v.compreface.collection.addFace(club, 'Dee', fakePhoto('dee', '2'));
  // A key of one purpose never sees, nor erases, another purpose's names.
  assert.deepEqual((await v.compreface.collection.listSubjects(club)).subjects, ['Dee']);
  assert.equal(await code(v.compreface.collection.deleteSubject(club, 'Cy')), 'UNKNOWN_SUBJECT');

  assert.deepEqual(await v.compreface.collection.deleteSubject(events, 'cy'), { subject: 'Cy' });
  assert.equal((await subjectRepository.get(v.store.db, only.consent.subjectId))!.state, 'erased');
  assert.ok((await actions(v)).includes('key.shredded'));

  await v.compreface.collection.deleteSubject(events, 'Dee');
  const dee = both.consent.subjectId;
  assert.equal((await subjectRepository.get(v.store.db, dee))!.state, 'active');
  assert.deepEqual((await v.compreface.collection.listSubjects(events)).subjects, []);
  assert.deepEqual((await v.compreface.collection.listSubjects(club)).subjects, ['Dee']);
  assert.equal((await subjectRepository.templates(v.store.db, { subjectId: dee })).length, 1);
  await v.close();
});

test("deleting a subject's faces keeps the name for retraining; deleting everything needs an admin-bound key", async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const op = await compatKey(v, 'events');
  const adminKey = await compatKey(v, 'events', 'admin');
  await consentWithAlias(v, 'events', 'Eve');
  await v.compreface.collection.addFace(op, 'Eve', fakePhoto('eve'));
  await v.compreface.collection.addFace(op, 'Eve', fakePhoto('eve', '2'));
  assert.deepEqual(await v.compreface.collection.deleteFaces(op, 'Eve'), { deleted: 2 });
  assert.equal(await code(v.compreface.collection.addFace(op, 'Eve', fakePhoto('eve', '3'))), 'OK');
  assert.equal(await code(v.compreface.collection.deleteFaces(op, undefined)), 'FORBIDDEN');
  assert.equal(await code(v.compreface.collection.deleteAllSubjects(op)), 'FORBIDDEN');
  assert.deepEqual(await v.compreface.collection.deleteFaces(adminKey, undefined), { deleted: 1 });
  assert.deepEqual(await v.compreface.collection.deleteAllSubjects(adminKey), { deleted: 1 });
  assert.deepEqual((await v.compreface.collection.listSubjects(adminKey)).subjects, []);
  await v.close();
});

test('a name stands for one person per purpose: a consent cannot take a name another person holds, a rename never merges', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const key = await compatKey(v, 'events');
  await consentWithAlias(v, 'events', 'Fay');
  assert.equal(await code(consentWithAlias(v, 'events', 'FAY')), 'CONFLICT');
  await consentWithAlias(v, 'events', 'Gus');
  assert.equal(await code(v.compreface.collection.renameSubject(key, 'Gus', 'fay')), 'CONFLICT');
  assert.deepEqual(await v.compreface.collection.renameSubject(key, 'Gus', 'Gustav'), { updated: true });
  assert.equal(await code(v.compreface.collection.addSubject(key, 'gustav')), 'CONFLICT');
  await v.close();
});

test("an erasure by any path (here the DPO's, through the lifecycle) takes the person's names in every purpose", async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  await consentPurpose(v, 'club');
  const key = await compatKey(v, 'events');
  const { consent } = await consentWithAlias(v, 'events', 'Hal');
  await consentWithAlias(v, 'club', 'Harold', consent.subjectId);
  await v.compreface.collection.addFace(key, 'Hal', fakePhoto('hal'));
  assert.equal((await aliasRepository.ofSubject(v.store.db, consent.subjectId)).length, 2);
  await v.lifecycle.erase([consent.subjectId], admin, null);
  assert.deepEqual(await aliasRepository.ofSubject(v.store.db, consent.subjectId), []);
  assert.deepEqual((await v.compreface.collection.listSubjects(key)).subjects, []);
  const r = await v.compreface.recognition.recognize(key, fakePhoto('hal', '2'), NO_OPTS);
  assert.deepEqual(r.result[0]!.subjects, []);
  await v.close();
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { unzipSync, strFromU8 } from 'fflate';
import sharp from 'sharp';
import { isVeilError } from '../../src/errors.js';
import { verifyCertificate } from '../../src/rights/certificate.js';
import { verifyHeadSignature } from '../../src/audit/tree-head.js';
import { verifyReceipt } from '../../src/privacy/consent.js';
import { addCalendarMonths, dueDate } from '../../src/rights/request.js';
import { sql } from 'kysely';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { face } from '../helpers.js';
import { operator } from '../gallery/fixture.js';
import { enrollPerson, rightsVeil } from './fixture.js';

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? e.code : `untyped: ${String(e)}`),
  );
const why = { justification: 'test' };
const OBAMA = [
  'face_recognition/obama/test_obama.jpg',
  'face_recognition/obama/test_obama2.jpg',
  // Used as the selfie: a photo the liveness check passes (test_obama3.jpg scores 0.20, under its 0.3).
  'face_recognition/obama/ex_obama-480p.jpg',
  'face_recognition/obama/knn_test_obama1.jpg',
];

describe('deadlines (Art. 12(3))', () => {
  test('one calendar month, clamped to the month end', () => {
    assert.equal(dueDate(new Date('2026-01-31T10:00:00Z')).toISOString(), '2026-02-28T10:00:00.000Z');
    assert.equal(dueDate(new Date('2028-01-31T10:00:00Z')).toISOString(), '2028-02-29T10:00:00.000Z');
    assert.equal(dueDate(new Date('2026-03-15T08:00:00Z')).toISOString(), '2026-04-15T08:00:00.000Z');
    assert.equal(addCalendarMonths(new Date('2026-12-31T00:00:00Z'), 2).toISOString(), '2027-02-28T00:00:00.000Z');
  });

  test('extension: once, at most two months, with a reason, only before the deadline; overdue follows the clock', async () => {
    const { v, clock, smtp, done } = await rightsVeil();
    const a = await v.rights.intake.submit({ kind: 'access', email: 'a@example.org' });
    assert.equal(a.dueAt, '2026-02-28T10:00:00.000Z');
    assert.equal(
      await code(v.rights.queue.extend(operator, a.requestId, 3, 'complex request with many photos')),
      'EXTENSION_REFUSED',
    );
    assert.equal(await code(v.rights.queue.extend(operator, a.requestId, 2, '')), 'EXTENSION_REFUSED');
    const ext = await v.rights.queue.extend(operator, a.requestId, 2, 'complex request with many photos');
    assert.equal(ext.extendedDueAt, '2026-04-28T10:00:00.000Z');
    assert.ok(
      smtp.messages.some((m) => m.to === 'a@example.org' && /extended/.test(m.raw) && /complex request/.test(m.raw)),
      'the person is told',
    );
    assert.equal(
      await code(v.rights.queue.extend(operator, a.requestId, 1, 'a second extension attempt')),
      'EXTENSION_REFUSED',
    );
    const b = await v.rights.intake.submit({ kind: 'erasure', email: 'b@example.org' });
    clock.advance(40 * 86_400_000);
    assert.equal(
      await code(v.rights.queue.extend(operator, b.requestId, 1, 'too late to extend now')),
      'EXTENSION_REFUSED',
    );
    const overdue = await v.rights.queue.list(operator, { overdue: true });
    assert.deepEqual(
      overdue.map((r) => r.id),
      [b.requestId],
      'the extended one is not overdue',
    );
    assert.deepEqual(await v.rights.queue.counts(), { open: 2, overdue: 1, awaitingReview: 0 });
    assert.equal(await v.rights.intake.expireStale(), 2, 'never verified within 14 days');
    assert.deepEqual(await v.rights.queue.counts(), { open: 0, overdue: 0, awaitingReview: 0 });
    await done();
  });
});

describe('identity verification', () => {
  test('wrong codes are limited then locked; an expired code is refused; nothing is disclosed before verification', async () => {
    const { v, clock, smtp, done } = await rightsVeil();
    const r = await v.rights.intake.submit({ kind: 'access', email: 'p@example.org', language: 'fr' });
    assert.match(smtp.messages.at(-1)!.raw, /v=C3=A9rification|vérification/);
    assert.equal(await code(v.rights.intake.verify('req_nope', { code: '000000' })), 'NOT_FOUND');
    assert.equal(await code(v.rights.queue.fulfil(operator, r.requestId)), 'INVALID_STATE');
    assert.equal(await code(v.rights.self.download(r.requestId, 'guess')), 'NOT_FOUND');
    const right = smtp.codeFor('p@example.org');
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++)
      assert.equal(await code(v.rights.intake.verify(r.requestId, { code: wrong })), 'CODE_INVALID');
    assert.equal(await code(v.rights.intake.verify(r.requestId, { code: wrong })), 'REQUEST_LOCKED');
    assert.equal(await code(v.rights.intake.verify(r.requestId, { code: right })), 'REQUEST_LOCKED');
    const r2 = await v.rights.intake.submit({ kind: 'access', email: 'q@example.org' });
    clock.advance(31 * 60_000);
    assert.equal(
      await code(v.rights.intake.verify(r2.requestId, { code: smtp.codeFor('q@example.org') })),
      'CODE_EXPIRED',
    );
    await v.rights.intake.resendCode(r2.requestId);
    assert.equal(
      await code(
        v.rights.intake.verify(r2.requestId, {
          code: smtp.codeFor('q@example.org'),
          selfies: [face('faceapi_bbt/_group_photos/bbt4.jpg')],
        }),
      ),
      'MULTIPLE_FACES',
    );
    assert.equal(
      await code(
        v.rights.intake.verify(r2.requestId, {
          code: smtp.codeFor('q@example.org'),
          selfies: [
            await sharp({ create: { width: 200, height: 200, channels: 3, background: '#888' } })
              .jpeg()
              .toBuffer(),
          ],
        }),
      ),
      'NO_FACE',
    );
    await done();
  });
});

describe('every right, end to end', () => {
  test('access: a ZIP with everything held, own face cropped from photos, searches that returned them', async () => {
    const { v, smtp, done } = await rightsVeil();
    const p = await enrollPerson(v, [face(OBAMA[0]!)], 'barack@example.org');
    await enrollPerson(v, [face('face_recognition/biden/test_biden.jpg')]);
    await v.media.ingest(operator, 'events', {
      name: 'party.jpg',
      bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
    });
    await v.search.identify(operator, { purpose: 'events', image: face(OBAMA[1]!), caseRef: 'CASE-9' });
    const r = await v.rights.intake.submit({ kind: 'access', email: 'barack@example.org' });
    const ver = await v.rights.intake.verify(r.requestId, {
      code: smtp.codeFor('barack@example.org'),
      selfies: [face(OBAMA[2]!)],
    });
    // A selfie never acts by itself: the DPO looks at it first, whatever it matched.
    assert.equal(ver.state, 'verified');
    assert.equal(await code(v.rights.queue.fulfil(operator, r.requestId)), 'INVALID_STATE');
    const pending = await v.rights.queue.get(operator, r.requestId);
    assert.equal(pending.review?.state, 'pending');
    assert.deepEqual(pending.review?.items, [], 'the selfie matched the person the address links, nobody else');
    assert.match(
      pending.review?.liveness ?? '',
      /^passed \(score 0\.\d{4}; faceplugin-fr_liveness@0\.0\.1, threshold 0\.3\)$/,
    );
    await v.rights.queue.review(operator, r.requestId, {
      decision: 'approve',
      note: 'selfie matches the linked record',
    });
    const out = await v.rights.queue.fulfil(operator, r.requestId);
    const download = (await v.rights.queue.download(operator, r.requestId)).bytes;
    const zip = unzipSync(new Uint8Array(download));
    const manifest = JSON.parse(strFromU8(zip['manifest.json']!));
    assert.equal(manifest.nothingHeld, false);
    const s = manifest.subjects[0];
    assert.equal(s.subjectId, p.subjectId);
    assert.equal(s.contactEmail, 'barack@example.org');
    assert.equal(s.purposes[0].lawfulBasis, 'consent');
    assert.equal(s.purposes[0].source.consentId, p.consent.id);
    assert.ok(verifyReceipt(s.consents[0].receipt, v.auditLog.publicKeyPem));
    assert.equal(s.templates.length, 1);
    assert.equal(s.templates[0].embedding, undefined, 'no raw vector in an access export');
    assert.equal(s.sightings.length, 1);
    const crop = zip[s.sightings[0].image]!;
    assert.equal((await sharp(crop).metadata()).format, 'jpeg');
    assert.equal(s.disclosures.length, 1, 'the search that returned them is disclosed');
    assert.ok(!strFromU8(zip['manifest.json']!).includes('CASE-9'), 'never the case reference (Art. 23)');
    assert.match(manifest.automatedMatching, /512 numbers/);
    const dl = await v.rights.self.download(r.requestId, ver.downloadToken);
    assert.equal(dl.bytes.length, download.length);
    assert.equal(out.request.state, 'fulfilled');
    assert.ok(out.request.history.some((h) => h.state === 'in_progress'));
    await done();
  });

  test('access by someone never enrolled: "we hold no face data matching you"', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)]);
    const r = await v.rights.intake.submit({ kind: 'access', email: 'stranger@example.org' });
    const ver = await v.rights.intake.verify(r.requestId, {
      code: smtp.codeFor('stranger@example.org'),
      selfies: [face('face_recognition/biden/test_biden.jpg')],
    });
    // The requester's answer is the same shape as for someone who is enrolled.
    assert.deepEqual(Object.keys(ver).sort(), ['downloadToken', 'state']);
    assert.deepEqual((await v.rights.queue.get(operator, r.requestId)).review?.items, []);
    await v.rights.queue.review(operator, r.requestId, { decision: 'reject', note: 'the selfie matched nobody' });
    await v.rights.queue.fulfil(operator, r.requestId);
    const manifest = JSON.parse(
      strFromU8(
        unzipSync(new Uint8Array((await v.rights.queue.download(operator, r.requestId)).bytes))['manifest.json']!,
      ),
    );
    assert.equal(manifest.nothingHeld, true);
    assert.equal(manifest.message, 'We hold no face data matching you.');
    assert.ok(smtp.messages.at(-1)!.raw.includes('We hold no face data matching you.'));
    await done();
  });

  test('portability: machine-readable JSON with the raw embeddings and their model', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)], 'b@example.org');
    const r = await v.rights.intake.submit({ kind: 'portability', email: 'b@example.org' });
    await v.rights.intake.verify(r.requestId, { code: smtp.codeFor('b@example.org') });
    await v.rights.queue.fulfil(operator, r.requestId);
    const doc = JSON.parse((await v.rights.queue.download(operator, r.requestId)).bytes.toString('utf8'));
    assert.equal(doc.format, 'veil.portability.v1');
    assert.equal(doc.subjects[0].templates[0].embedding.length, 512);
    assert.equal(doc.subjects[0].templates[0].model, 'faceplugin-fr_feature@0.0.1');
    await done();
  });

  test('erasure by face: complete in every table, index, file and key; certificate verifies standalone; a second erasure is answered', async () => {
    const { v, smtp, done } = await rightsVeil();
    // Known by no name and no email: only their face.
    await v.purposes.create(operator, {
      key: 'archive',
      name: 'Archive',
      description: 'Photo archive of members who keep their pictures.',
      lawfulBasis: 'consent',
      keepSourceImages: true,
    });
    const p = await enrollPerson(v, [face(OBAMA[0]!)]);
    const { consent: c2 } = await v.consents.give(operator, {
      purpose: 'archive',
      subjectId: p.subjectId,
      noticeText: 'We keep your member photo in the archive until you leave.',
      noticeVersion: '1',
      method: 'paper',
      collector: 'desk',
    });
    await v.gallery.enroll(operator, { purpose: 'archive', consentId: c2.id, images: [face(OBAMA[3]!)] });
    const other = await enrollPerson(v, [face('face_recognition/biden/test_biden.jpg')]);
    const media = await v.media.ingest(operator, 'events', {
      name: 'party.jpg',
      bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
    });
    await v.search.identify(operator, { purpose: 'events', image: face(OBAMA[1]!), caseRef: 'LOST-AND-FOUND-3' });
    const accessReq = await v.rights.intake.submit({ kind: 'access', email: 'me@example.org' });
    await v.rights.intake.verify(accessReq.requestId, {
      code: smtp.codeFor('me@example.org'),
      selfies: [face(OBAMA[2]!)],
    });
    // Known only by face: the DPO checks the match evidence before anything is released.
    const review = (await v.rights.queue.get(operator, accessReq.requestId)).review!;
    assert.deepEqual(
      review.items.map((i) => [i.subjectId, i.why]),
      [[p.subjectId, 'face-only']],
    );
    assert.ok(review.items[0]!.similarity! >= 0.48);
    await v.rights.queue.review(operator, accessReq.requestId, { decision: 'approve', note: 'match evidence checked' });
    await v.rights.queue.fulfil(operator, accessReq.requestId);
    const sealedBefore = await v.store.db
      .selectFrom('templates')
      .select(['id', 'subject_id', 'purpose_id', 'sealed'])
      .where('subject_id', '=', p.subjectId)
      .execute();
    const key = await v.keyring.get(v.store.db, p.subjectId);
    assert.equal(sealedBefore.length, 2);
    assert.ok(existsSync(join(v.dataDir, 'images', p.subjectId)));

    const r = await v.rights.intake.submit({ kind: 'erasure', email: 'me@example.org', details: 'please forget me' });
    await v.rights.intake.verify(r.requestId, { code: smtp.codeFor('me@example.org'), selfies: [face(OBAMA[2]!)] });
    await v.rights.queue.review(operator, r.requestId, {
      decision: 'approve',
      note: 'same face as the approved access request',
    });
    // How long an erasure takes is measured in bench/rights.bench.ts (20 templates, 10,000 sightings).
    const out = await v.rights.queue.fulfil(operator, r.requestId);
    const cert = out.certificate!;
    assert.deepEqual(verifyCertificate(cert, v.auditLog.publicKeyPem), []);
    assert.ok(verifyHeadSignature(cert.audit.head, v.auditLog.publicKeyPem));
    assert.deepEqual(cert.audit.entries.map((e) => e.action).sort(), ['key.shredded', 'subject.erased']);
    assert.equal(cert.subjects[0]!.templates, 2);
    assert.equal(cert.subjects[0]!.artifacts, 1, 'the earlier access export was a derived artifact');
    assert.deepEqual(
      cert.recipientsToNotify.map((x) => x.actor),
      ['api-key:key_operator'],
    );
    const forged = { ...cert, subjects: [{ ...cert.subjects[0]!, templates: 0 }] };
    assert.ok(verifyCertificate(forged, v.auditLog.publicKeyPem).length > 0);

    // Not findable by any probe.
    for (const img of OBAMA) {
      const id = await v.search.identify(operator, { purpose: 'events', image: face(img), ...why });
      assert.ok(!id.candidates.some((c) => c.subjectId === p.subjectId));
      assert.ok(
        !(await v.search.identify(operator, { purpose: 'archive', image: face(img), ...why })).candidates.length,
      );
    }
    assert.equal(v.index.templatesOf(p.subjectId).length, 0, 'no vector in the index');
    // No row holds their data: scan every table for the id.
    const tables = (
      v.store.engine === 'postgres'
        ? await sql<{
            name: string;
          }>`select table_name as name from information_schema.tables where table_schema = 'public'`.execute(v.store.db)
        : await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(v.store.db)
    ).rows.map((t) => t.name);
    assert.ok(tables.length >= 20, `${tables.length} tables scanned`);
    // Ids only, no personal data: the tombstone, the audit log, the request that asked for this, and
    // the index change feed (pruned after a day) that tells other processes to drop the subject.
    const allowed = new Set(['subjects', 'audit_entries', 'rights_requests', 'rights_events', 'index_changes']);
    for (const t of tables) {
      const rows = (await sql.raw(`select * from "${t}"`).execute(v.store.db)).rows as Record<string, unknown>[];
      const hits = rows.filter((row) =>
        JSON.stringify(row, (_, x) => (x?.type === 'Buffer' ? '' : x)).includes(p.subjectId),
      );
      if (!allowed.has(t)) assert.equal(hits.length, 0, `table ${t} still mentions the subject`);
    }
    const tomb = await v.store.db
      .selectFrom('subjects')
      .selectAll()
      .where('id', '=', p.subjectId)
      .executeTakeFirstOrThrow();
    assert.deepEqual([tomb.state, tomb.contact_hash, tomb.contact_sealed, tomb.region], ['erased', null, null, null]);
    const audit = await auditRepository.entries(v.store.db, 1, await v.auditLog.size(v.store.db));
    assert.ok(!JSON.stringify(audit).includes('me@example.org'));
    // The key is gone; old sealed template bytes cannot be opened with anything left.
    assert.equal(await code(v.keyring.get(v.store.db, p.subjectId)), 'KEY_DESTROYED');
    assert.throws(() =>
      v.vault.openTemplate(v.master.derive('anything'), {
        ...sealedBefore[0]!,
        id: sealedBefore[0]!.id as never,
        subjectId: p.subjectId,
        purposeId: sealedBefore[0]!.purpose_id as never,
      }),
    );
    assert.ok(
      v.vault.openTemplate(key, {
        ...sealedBefore[0]!,
        id: sealedBefore[0]!.id as never,
        subjectId: p.subjectId,
        purposeId: sealedBefore[0]!.purpose_id as never,
      }).length === 512,
      'only the destroyed key could',
    );
    assert.equal(existsSync(join(v.dataDir, 'images', p.subjectId)), false, 'kept photos deleted');
    assert.equal(readdirSync(join(v.dataDir, 'exports')).length, 0, 'derived exports destroyed');
    // Sightings unlinked: the photo now blurs them; the other person still matches.
    if (media.status === 'ingested')
      assert.equal(
        (await v.media.faces(operator, media.mediaId))
          .filter((f) => f.subjectId)
          .map((f) => f.subjectId)
          .join(),
        other.subjectId,
      );
    assert.equal(
      (
        await v.search.identify(operator, {
          purpose: 'events',
          image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
          ...why,
        })
      ).candidates[0]?.subjectId,
      other.subjectId,
    );

    // A second erasure request is answered: nothing held any more.
    const again = await v.rights.intake.submit({ kind: 'erasure', email: 'me@example.org' });
    await v.rights.intake.verify(again.requestId, { code: smtp.codeFor('me@example.org'), selfies: [face(OBAMA[2]!)] });
    assert.deepEqual(
      (await v.rights.queue.get(operator, again.requestId)).review?.items,
      [],
      'nothing matches any more',
    );
    await v.rights.queue.review(operator, again.requestId, { decision: 'reject', note: 'no match' });
    const out2 = await v.rights.queue.fulfil(operator, again.requestId);
    assert.equal(out2.request.state, 'fulfilled');
    assert.equal(out2.request.outcome!['nothingHeld'], true);
    // And fulfilling the first one again is idempotent.
    assert.equal((await v.rights.queue.fulfil(operator, r.requestId)).request.state, 'fulfilled');
    await done();
  });

  test('objection: a do-not-enroll template blocks re-enrollment and sightings', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)], 'o@example.org');
    const r = await v.rights.intake.submit({ kind: 'objection', email: 'o@example.org' });
    await v.rights.intake.verify(r.requestId, { code: smtp.codeFor('o@example.org'), selfies: [face(OBAMA[1]!)] });
    await v.rights.queue.review(operator, r.requestId, {
      decision: 'approve',
      note: 'selfie matches the linked record',
    });
    const out = await v.rights.queue.fulfil(operator, r.requestId);
    assert.ok(out.request.outcome!['suppressionId']);
    const row = await v.store.db
      .selectFrom('rights_requests')
      .select('pending_selfie')
      .where('id', '=', r.requestId)
      .executeTakeFirstOrThrow();
    assert.equal(row.pending_selfie, null, 'the selfie template is gone once used');
    const { consent } = await v.consents.give(operator, {
      purpose: 'events',
      noticeText: 'We match your face against event photos to find you.',
      noticeVersion: '1',
      method: 'api',
      collector: 't',
    });
    assert.equal(
      await code(v.gallery.enroll(operator, { purpose: 'events', consentId: consent.id, images: [face(OBAMA[2]!)] })),
      'SUBJECT_SUPPRESSED',
    );
    const m = await v.media.ingest(operator, 'events', {
      name: 'x.jpg',
      bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
    });
    assert.equal(m.status === 'ingested' && m.sightings, 0);
    await done();
  });

  test('restriction and its lifting; consent withdrawal; rectification', async () => {
    const { v, smtp, done } = await rightsVeil();
    const p = await enrollPerson(v, [face(OBAMA[0]!), face(OBAMA[3]!)], 'r@example.org');
    const run = async (kind: 'restriction' | 'lift-restriction' | 'withdraw-consent' | 'rectification', opts = {}) => {
      const r = await v.rights.intake.submit({ kind, email: 'r@example.org' });
      await v.rights.intake.verify(r.requestId, { code: smtp.codeFor('r@example.org') });
      return v.rights.queue.fulfil(operator, r.requestId, opts);
    };
    const found = async () =>
      (await v.search.identify(operator, { purpose: 'events', image: face(OBAMA[1]!), ...why })).candidates.some(
        (c) => c.subjectId === p.subjectId,
      );
    assert.equal(await found(), true);
    await run('restriction');
    assert.equal(await found(), false);
    // A restricted person can still find themselves by face in their own request.
    const acc = await v.rights.intake.submit({ kind: 'access', email: 'other-address@example.org' });
    await v.rights.intake.verify(acc.requestId, {
      code: smtp.codeFor('other-address@example.org'),
      selfies: [face(OBAMA[2]!)],
    });
    assert.deepEqual(
      (await v.rights.queue.get(operator, acc.requestId)).review?.items.map((i) => i.subjectId),
      [p.subjectId],
      'found by face for review, restricted as they are',
    );
    await run('lift-restriction');
    assert.equal(await found(), true);
    await run('rectification', { removeTemplateIds: [p.templates[1]!.templateId], newEmail: 'new@example.org' });
    assert.equal(
      (await v.store.db.selectFrom('templates').selectAll().where('subject_id', '=', p.subjectId).execute()).length,
      1,
    );
    const r2 = await v.rights.intake.submit({ kind: 'withdraw-consent', email: 'new@example.org' });
    await v.rights.intake.verify(r2.requestId, { code: smtp.codeFor('new@example.org') });
    assert.equal((await v.rights.queue.fulfil(operator, r2.requestId)).request.outcome!['consentsWithdrawn'], 1);
    assert.equal(await found(), false);
    await done();
  });
});

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
  'face_recognition/obama/test_obama3.jpg',
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
    const a = await v.rights.submit({ kind: 'access', email: 'a@example.org' });
    assert.equal(a.dueAt, '2026-02-28T10:00:00.000Z');
    assert.equal(
      await code(v.rights.extend(a.requestId, 3, 'complex request with many photos', operator)),
      'EXTENSION_REFUSED',
    );
    assert.equal(await code(v.rights.extend(a.requestId, 2, '', operator)), 'EXTENSION_REFUSED');
    const ext = await v.rights.extend(a.requestId, 2, 'complex request with many photos', operator);
    assert.equal(ext.extendedDueAt, '2026-04-28T10:00:00.000Z');
    assert.ok(
      smtp.messages.some((m) => m.to === 'a@example.org' && /extended/.test(m.raw) && /complex request/.test(m.raw)),
      'the person is told',
    );
    assert.equal(
      await code(v.rights.extend(a.requestId, 1, 'a second extension attempt', operator)),
      'EXTENSION_REFUSED',
    );
    const b = await v.rights.submit({ kind: 'erasure', email: 'b@example.org' });
    clock.advance(40 * 86_400_000);
    assert.equal(await code(v.rights.extend(b.requestId, 1, 'too late to extend now', operator)), 'EXTENSION_REFUSED');
    const overdue = await v.rights.list({ overdue: true });
    assert.deepEqual(
      overdue.map((r) => r.id),
      [b.requestId],
      'the extended one is not overdue',
    );
    assert.deepEqual(await v.rights.counts(), { open: 2, overdue: 1 });
    assert.equal(await v.rights.expireStale(), 2, 'never verified within 14 days');
    assert.deepEqual(await v.rights.counts(), { open: 0, overdue: 0 });
    await done();
  });
});

describe('identity verification', () => {
  test('wrong codes are limited then locked; an expired code is refused; nothing is disclosed before verification', async () => {
    const { v, clock, smtp, done } = await rightsVeil();
    const r = await v.rights.submit({ kind: 'access', email: 'p@example.org', language: 'fr' });
    assert.match(smtp.messages.at(-1)!.raw, /v=C3=A9rification|vérification/);
    assert.equal(await code(v.rights.verify('req_nope', { code: '000000' })), 'NOT_FOUND');
    assert.equal(await code(v.rights.fulfil(r.requestId, operator)), 'INVALID_STATE');
    assert.equal(await code(v.rights.download(r.requestId, 'guess')), 'NOT_FOUND');
    const right = smtp.codeFor('p@example.org');
    const wrong = right === '000000' ? '111111' : '000000';
    for (let i = 0; i < 4; i++) assert.equal(await code(v.rights.verify(r.requestId, { code: wrong })), 'CODE_INVALID');
    assert.equal(await code(v.rights.verify(r.requestId, { code: wrong })), 'REQUEST_LOCKED');
    assert.equal(await code(v.rights.verify(r.requestId, { code: right })), 'REQUEST_LOCKED');
    const r2 = await v.rights.submit({ kind: 'access', email: 'q@example.org' });
    clock.advance(31 * 60_000);
    assert.equal(await code(v.rights.verify(r2.requestId, { code: smtp.codeFor('q@example.org') })), 'CODE_EXPIRED');
    await v.rights.resendCode(r2.requestId);
    assert.equal(
      await code(
        v.rights.verify(r2.requestId, {
          code: smtp.codeFor('q@example.org'),
          selfies: [face('faceapi_bbt/_group_photos/bbt4.jpg')],
        }),
      ),
      'MULTIPLE_FACES',
    );
    assert.equal(
      await code(
        v.rights.verify(r2.requestId, {
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
    await v.ingest.ingest(
      'events',
      { name: 'party.jpg', bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg') },
      operator,
    );
    await v.gallery.identify({ purpose: 'events', image: face(OBAMA[1]!), caseRef: 'CASE-9' }, operator);
    const r = await v.rights.submit({ kind: 'access', email: 'barack@example.org' });
    const ver = await v.rights.verify(r.requestId, {
      code: smtp.codeFor('barack@example.org'),
      selfies: [face(OBAMA[2]!)],
    });
    assert.equal(ver.subjectsFound, 1);
    const t0 = performance.now();
    const out = await v.rights.fulfil(r.requestId, operator);
    assert.ok(performance.now() - t0 < 30_000);
    const zip = unzipSync(new Uint8Array(out.download!));
    const manifest = JSON.parse(strFromU8(zip['manifest.json']!));
    assert.equal(manifest.nothingHeld, false);
    const s = manifest.subjects[0];
    assert.equal(s.subjectId, p.subjectId);
    assert.equal(s.contactEmail, 'barack@example.org');
    assert.equal(s.purposes[0].lawfulBasis, 'consent');
    assert.equal(s.purposes[0].source.consentId, p.consent.id);
    assert.ok(verifyReceipt(s.consents[0].receipt, v.audit.publicKeyPem));
    assert.equal(s.templates.length, 1);
    assert.equal(s.templates[0].embedding, undefined, 'no raw vector in an access export');
    assert.equal(s.sightings.length, 1);
    const crop = zip[s.sightings[0].image]!;
    assert.equal((await sharp(crop).metadata()).format, 'jpeg');
    assert.deepEqual(
      s.disclosures.map((d: { caseReference: string }) => d.caseReference),
      ['CASE-9'],
    );
    assert.match(manifest.automatedMatching, /512 numbers/);
    const dl = await v.rights.download(r.requestId, ver.downloadToken);
    assert.equal(dl.bytes.length, out.download!.length);
    assert.equal(out.request.state, 'fulfilled');
    assert.ok(out.request.history.some((h) => h.state === 'in_progress'));
    await done();
  });

  test('access by someone never enrolled: "we hold no face data matching you"', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)]);
    const r = await v.rights.submit({ kind: 'access', email: 'stranger@example.org' });
    const ver = await v.rights.verify(r.requestId, {
      code: smtp.codeFor('stranger@example.org'),
      selfies: [face('face_recognition/biden/test_biden.jpg')],
    });
    assert.equal(ver.subjectsFound, 0);
    const out = await v.rights.fulfil(r.requestId, operator);
    const manifest = JSON.parse(strFromU8(unzipSync(new Uint8Array(out.download!))['manifest.json']!));
    assert.equal(manifest.nothingHeld, true);
    assert.equal(manifest.message, 'We hold no face data matching you.');
    assert.ok(smtp.messages.at(-1)!.raw.includes('We hold no face data matching you.'));
    await done();
  });

  test('portability: machine-readable JSON with the raw embeddings and their model', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)], 'b@example.org');
    const r = await v.rights.submit({ kind: 'portability', email: 'b@example.org' });
    await v.rights.verify(r.requestId, { code: smtp.codeFor('b@example.org') });
    const out = await v.rights.fulfil(r.requestId, operator);
    const doc = JSON.parse(out.download!.toString('utf8'));
    assert.equal(doc.format, 'veil.portability.v1');
    assert.equal(doc.subjects[0].templates[0].embedding.length, 512);
    assert.equal(doc.subjects[0].templates[0].model, 'faceplugin-fr_feature@0.0.1');
    await done();
  });

  test('erasure by face: complete in every table, index, file and key; certificate verifies standalone; a second erasure is answered', async () => {
    const { v, smtp, done } = await rightsVeil();
    // Known by no name and no email: only their face.
    await v.purposes.create(
      {
        key: 'archive',
        name: 'Archive',
        description: 'Photo archive of members who keep their pictures.',
        lawfulBasis: 'consent',
        keepSourceImages: true,
      },
      operator,
    );
    const p = await enrollPerson(v, [face(OBAMA[0]!)]);
    const { consent: c2 } = await v.consents.give(
      {
        purpose: 'archive',
        subjectId: p.subjectId,
        noticeText: 'We keep your member photo in the archive until you leave.',
        noticeVersion: '1',
        method: 'paper',
        collector: 'desk',
      },
      operator,
    );
    await v.gallery.enroll({ purpose: 'archive', consentId: c2.id, images: [face(OBAMA[3]!)] }, operator);
    const other = await enrollPerson(v, [face('face_recognition/biden/test_biden.jpg')]);
    const media = await v.ingest.ingest(
      'events',
      { name: 'party.jpg', bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg') },
      operator,
    );
    await v.gallery.identify({ purpose: 'events', image: face(OBAMA[1]!), caseRef: 'LOST-AND-FOUND-3' }, operator);
    const accessReq = await v.rights.submit({ kind: 'access', email: 'me@example.org' });
    await v.rights.verify(accessReq.requestId, { code: smtp.codeFor('me@example.org'), selfies: [face(OBAMA[2]!)] });
    await v.rights.fulfil(accessReq.requestId, operator);
    const sealedBefore = await v.store.db
      .selectFrom('templates')
      .select(['id', 'subject_id', 'purpose_id', 'sealed'])
      .where('subject_id', '=', p.subjectId)
      .execute();
    const key = await v.keyring.get(v.store.db, p.subjectId);
    assert.equal(sealedBefore.length, 2);
    assert.ok(existsSync(join(v.dataDir, 'images', p.subjectId)));

    const r = await v.rights.submit({ kind: 'erasure', email: 'me@example.org', details: 'please forget me' });
    await v.rights.verify(r.requestId, { code: smtp.codeFor('me@example.org'), selfies: [face(OBAMA[2]!)] });
    const t0 = performance.now();
    const out = await v.rights.fulfil(r.requestId, operator);
    const ms = performance.now() - t0;
    assert.ok(ms < 5_000, `erasure took ${ms} ms`);
    const cert = out.certificate!;
    assert.deepEqual(verifyCertificate(cert, v.audit.publicKeyPem), []);
    assert.ok(verifyHeadSignature(cert.audit.head, v.audit.publicKeyPem));
    assert.deepEqual(cert.audit.entries.map((e) => e.action).sort(), ['key.shredded', 'subject.erased']);
    assert.equal(cert.subjects[0]!.templates, 2);
    assert.equal(cert.subjects[0]!.artifacts, 1, 'the earlier access export was a derived artifact');
    assert.deepEqual(
      cert.recipientsToNotify.map((x) => x.actor),
      ['api-key:key_operator'],
    );
    const forged = { ...cert, subjects: [{ ...cert.subjects[0]!, templates: 0 }] };
    assert.ok(verifyCertificate(forged, v.audit.publicKeyPem).length > 0);

    // Not findable by any probe.
    for (const img of OBAMA) {
      const id = await v.gallery.identify({ purpose: 'events', image: face(img), ...why }, operator);
      assert.ok(!id.candidates.some((c) => c.subjectId === p.subjectId));
      assert.ok(
        !(await v.gallery.identify({ purpose: 'archive', image: face(img), ...why }, operator)).candidates.length,
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
    const audit = await v.audit.entries(v.store.db, 1, await v.audit.size(v.store.db));
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
        (await v.ingest.faces(media.mediaId))
          .filter((f) => f.subjectId)
          .map((f) => f.subjectId)
          .join(),
        other.subjectId,
      );
    assert.equal(
      (
        await v.gallery.identify(
          { purpose: 'events', image: face('face_recognition/biden/knn_train_biden_biden2.jpg'), ...why },
          operator,
        )
      ).candidates[0]?.subjectId,
      other.subjectId,
    );

    // A second erasure request is answered: nothing held any more.
    const again = await v.rights.submit({ kind: 'erasure', email: 'me@example.org' });
    await v.rights.verify(again.requestId, { code: smtp.codeFor('me@example.org'), selfies: [face(OBAMA[2]!)] });
    const out2 = await v.rights.fulfil(again.requestId, operator);
    assert.equal(out2.request.state, 'fulfilled');
    assert.equal(out2.request.outcome!['nothingHeld'], true);
    // And fulfilling the first one again is idempotent.
    assert.equal((await v.rights.fulfil(r.requestId, operator)).request.state, 'fulfilled');
    await done();
  });

  test('objection: a do-not-enroll template blocks re-enrollment and sightings', async () => {
    const { v, smtp, done } = await rightsVeil();
    await enrollPerson(v, [face(OBAMA[0]!)], 'o@example.org');
    const r = await v.rights.submit({ kind: 'objection', email: 'o@example.org' });
    await v.rights.verify(r.requestId, { code: smtp.codeFor('o@example.org'), selfies: [face(OBAMA[1]!)] });
    const out = await v.rights.fulfil(r.requestId, operator);
    assert.ok(out.request.outcome!['suppressionId']);
    const row = await v.store.db
      .selectFrom('rights_requests')
      .select('pending_selfie')
      .where('id', '=', r.requestId)
      .executeTakeFirstOrThrow();
    assert.equal(row.pending_selfie, null, 'the selfie template is gone once used');
    const { consent } = await v.consents.give(
      {
        purpose: 'events',
        noticeText: 'We match your face against event photos to find you.',
        noticeVersion: '1',
        method: 'api',
        collector: 't',
      },
      operator,
    );
    assert.equal(
      await code(v.gallery.enroll({ purpose: 'events', consentId: consent.id, images: [face(OBAMA[2]!)] }, operator)),
      'SUBJECT_SUPPRESSED',
    );
    const m = await v.ingest.ingest(
      'events',
      { name: 'x.jpg', bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg') },
      operator,
    );
    assert.equal(m.status === 'ingested' && m.sightings, 0);
    await done();
  });

  test('restriction and its lifting; consent withdrawal; rectification', async () => {
    const { v, smtp, done } = await rightsVeil();
    const p = await enrollPerson(v, [face(OBAMA[0]!), face(OBAMA[3]!)], 'r@example.org');
    const run = async (kind: 'restriction' | 'lift-restriction' | 'withdraw-consent' | 'rectification', opts = {}) => {
      const r = await v.rights.submit({ kind, email: 'r@example.org' });
      await v.rights.verify(r.requestId, { code: smtp.codeFor('r@example.org') });
      return v.rights.fulfil(r.requestId, operator, opts);
    };
    const found = async () =>
      (await v.gallery.identify({ purpose: 'events', image: face(OBAMA[1]!), ...why }, operator)).candidates.some(
        (c) => c.subjectId === p.subjectId,
      );
    assert.equal(await found(), true);
    await run('restriction');
    assert.equal(await found(), false);
    // A restricted person can still find themselves by face in their own request.
    const acc = await v.rights.submit({ kind: 'access', email: 'other-address@example.org' });
    assert.equal(
      (
        await v.rights.verify(acc.requestId, {
          code: smtp.codeFor('other-address@example.org'),
          selfies: [face(OBAMA[2]!)],
        })
      ).subjectsFound,
      1,
    );
    await run('lift-restriction');
    assert.equal(await found(), true);
    await run('rectification', { removeTemplateIds: [p.templates[1]!.templateId], newEmail: 'new@example.org' });
    assert.equal(
      (await v.store.db.selectFrom('templates').selectAll().where('subject_id', '=', p.subjectId).execute()).length,
      1,
    );
    const r2 = await v.rights.submit({ kind: 'withdraw-consent', email: 'new@example.org' });
    await v.rights.verify(r2.requestId, { code: smtp.codeFor('new@example.org') });
    assert.equal((await v.rights.fulfil(r2.requestId, operator)).request.outcome!['consentsWithdrawn'], 1);
    assert.equal(await found(), false);
    await done();
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync, statSync } from 'node:fs';
import { sql } from 'kysely';
import { join } from 'node:path';
import sharp from 'sharp';
import { isVeilError } from '../../src/errors.js';
import { verifyReceipt } from '../../src/privacy/consent.js';
import { openVeil } from '../../src/app/veil.js';
import { verifyExport } from '../../src/audit/verify.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { vectorBytes } from '../../src/privacy/keys.js';
import { FACES, face } from '../helpers.js';
import { NOTICE, consentAndEnroll, engine, eventPurpose, giveConsent, operator, veil } from './fixture.js';

const code = async (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? e.code : `untyped: ${String(e)}`),
  );
const why = { justification: 'test search' };

describe('purposes and consent', () => {
  test('purposes are validated against the lawful-basis rules', async () => {
    const v = await veil();
    assert.equal(
      await code(
        v.purposes.create(operator, {
          key: 'x1',
          name: 'X',
          description: 'a description long enough here',
          lawfulBasis: 'consent',
          retention: 'P4Y',
        }),
      ),
      'INVALID_INPUT',
    );
    assert.equal(
      await code(
        v.purposes.create(operator, {
          key: 'x2',
          name: 'X',
          description: 'a description long enough here',
          lawfulBasis: 'legal-obligation',
          art9Condition: 'substantial-public-interest',
        }),
      ),
      'INVALID_INPUT',
    );
    assert.equal(
      await code(
        v.purposes.create(operator, {
          key: 'x3',
          name: 'X',
          description: 'a description long enough here',
          lawfulBasis: 'consent',
          art9Condition: 'legal-claims',
        }),
      ),
      'INVALID_INPUT',
    );
    await eventPurpose(v);
    assert.equal(await code(eventPurpose(v)), 'CONFLICT');
    await v.close();
  });

  test('enrollment is refused without consent, and without a source reference for non-consent purposes', async () => {
    const v = await veil();
    await eventPurpose(v);
    const img = face('deepface_small/id01/img1.jpg');
    assert.equal(
      await code(v.gallery.enroll(operator, { purpose: 'event-photos', images: [img] })),
      'CONSENT_REQUIRED',
    );
    assert.equal(
      await code(
        v.gallery.enroll(operator, { purpose: 'event-photos', consentId: 'con_doesnotexist000000', images: [img] }),
      ),
      'CONSENT_REQUIRED',
    );
    assert.equal(await code(v.gallery.enroll(operator, { purpose: 'nope', images: [img] })), 'UNKNOWN_PURPOSE');
    await v.purposes.create(operator, {
      key: 'investigations',
      name: 'Investigations',
      description: 'Identification of suspects under a court order.',
      lawfulBasis: 'legal-obligation',
      art9Condition: 'substantial-public-interest',
      legalReference: 'Code of Criminal Procedure art. 123',
      requiresCaseRef: true,
    });
    assert.equal(
      await code(v.gallery.enroll(operator, { purpose: 'investigations', images: [img] })),
      'SOURCE_REFERENCE_REQUIRED',
    );
    const r = await v.gallery.enroll(operator, {
      purpose: 'investigations',
      sourceReference: 'Warrant 2026-17',
      images: [img],
    });
    assert.equal(r.templates.length, 1);
    assert.equal(
      await code(v.search.identify(operator, { purpose: 'investigations', image: img, justification: 'no case' })),
      'CASE_REF_REQUIRED',
    );
    const found = await v.search.identify(operator, {
      purpose: 'investigations',
      image: face('deepface_small/id01/img2.jpg'),
      caseRef: 'CASE-1',
    });
    assert.equal(found.candidates[0]?.subjectId, r.subjectId);
    assert.equal(
      await code(v.search.identify(operator, { purpose: 'investigations', image: img })),
      'CASE_REF_REQUIRED',
    );
    assert.equal((await v.store.db.selectFrom('templates').selectAll().execute()).length, 1, 'nothing else written');
    await v.close();
  });

  test('consent receipts are signed and verify with the audit public key', async () => {
    const v = await veil();
    await eventPurpose(v);
    const { consent, receipt } = await v.consents.give(operator, {
      purpose: 'event-photos',
      noticeText: NOTICE,
      noticeVersion: '3',
      method: 'portal',
      collector: 'kiosk-1',
      contactEmail: 'ada@example.org',
    });
    assert.equal(receipt.receiptId, consent.id);
    assert.ok(verifyReceipt(receipt, v.auditLog.publicKeyPem));
    assert.equal(verifyReceipt({ ...receipt, state: 'withdrawn' }, v.auditLog.publicKeyPem), false);
    const row = await v.store.db
      .selectFrom('subjects')
      .selectAll()
      .where('id', '=', consent.subjectId)
      .executeTakeFirstOrThrow();
    assert.ok(
      row.contact_sealed && !row.contact_sealed.toString('latin1').includes('ada@example.org'),
      'contact is sealed',
    );
    const audit = await auditRepository.entries(v.store.db, 1, await v.auditLog.size(v.store.db));
    assert.ok(!JSON.stringify(audit).includes('ada@example.org'), 'no email in the audit log');
    await v.close();
  });
});

describe('enroll, identify, verify', () => {
  test('bad enrollment images give typed errors and write nothing', async () => {
    const v = await veil();
    await eventPurpose(v);
    const consent = await giveConsent(v);
    const enroll = (images: Uint8Array[]) =>
      code(v.gallery.enroll(operator, { purpose: 'event-photos', consentId: consent.id, images }));
    assert.equal(await enroll([face('faceapi_bbt/_group_photos/bbt4.jpg')]), 'MULTIPLE_FACES');
    assert.equal(
      await enroll([
        await sharp({ create: { width: 300, height: 300, channels: 3, background: '#777' } })
          .jpeg()
          .toBuffer(),
      ]),
      'NO_FACE',
    );
    assert.equal(await enroll([Buffer.from('not an image')]), 'INVALID_IMAGE');
    assert.equal(
      await enroll([await sharp(face('deepface_small/id01/img1.jpg')).resize(90).blur(1.5).jpeg().toBuffer()]),
      'LOW_QUALITY',
    );
    // One good image and one bad: all or nothing.
    assert.equal(await enroll([face('deepface_small/id01/img1.jpg'), Buffer.from('x')]), 'INVALID_IMAGE');
    assert.equal((await v.store.db.selectFrom('templates').selectAll().execute()).length, 0);
    assert.equal(v.index.size(), 0);
    await v.close();
  });

  test('withdrawal stops matches at once; a restricted subject never appears; lifting restores it', async () => {
    const v = await veil();
    await eventPurpose(v);
    const a = await consentAndEnroll(v, 'event-photos', [face('face_recognition/obama/test_obama.jpg')]);
    const b = await consentAndEnroll(v, 'event-photos', [face('face_recognition/biden/test_biden.jpg')]);
    const probe = face('face_recognition/obama/test_obama2.jpg');
    let r = await v.search.identify(operator, { purpose: 'event-photos', image: probe, ...why });
    assert.equal(r.candidates[0]?.subjectId, a.subjectId);
    await v.subjects.setRestricted(operator, a.subjectId, true, 'Art. 18 request');
    r = await v.search.identify(operator, { purpose: 'event-photos', image: probe, ...why });
    assert.ok(!r.candidates.some((c) => c.subjectId === a.subjectId));
    assert.equal(
      await code(v.search.verify(operator, { purpose: 'event-photos', image: probe, subjectId: a.subjectId, ...why })),
      'SUBJECT_RESTRICTED',
    );
    assert.equal(
      await code(v.gallery.enroll(operator, { purpose: 'event-photos', subjectId: a.subjectId, images: [probe] })),
      'SUBJECT_RESTRICTED',
    );
    await v.subjects.setRestricted(operator, a.subjectId, false, 'lifted');
    r = await v.search.identify(operator, { purpose: 'event-photos', image: probe, ...why });
    assert.equal(r.candidates[0]?.subjectId, a.subjectId);
    const w = await v.consents.withdraw(operator, a.consent.id);
    assert.equal(w.templatesDeleted, 1);
    r = await v.search.identify(operator, { purpose: 'event-photos', image: probe, ...why });
    assert.equal(r.decision, 'no-match');
    assert.equal(
      (await v.store.db.selectFrom('templates').selectAll().where('subject_id', '=', a.subjectId).execute()).length,
      0,
    );
    assert.equal(
      await code(v.gallery.enroll(operator, { purpose: 'event-photos', consentId: a.consent.id, images: [probe] })),
      'CONSENT_WITHDRAWN',
    );
    const bv = await v.search.verify(operator, {
      purpose: 'event-photos',
      image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
      subjectId: b.subjectId,
      ...why,
    });
    assert.equal(bv.match, true);
    await v.close();
  });

  test('identify finds the right person among the 37 identities at the calibrated rates', async () => {
    const v = await veil();
    await eventPurpose(v);
    const root = FACES;
    const ids: { name: string; files: string[] }[] = [];
    for (const set of ['faceapi_bbt', 'deepface_small', 'compreface', 'face_recognition']) {
      for (const id of readdirSync(join(root, set)).filter((d) => !d.startsWith('_') && !d.includes('.'))) {
        ids.push({
          name: `${set}/${id}`,
          files: readdirSync(join(root, set, id))
            .filter((f) => !/ex_obama-(480p|720p|1080p)/.test(f))
            .map((f) => join(root, set, id, f)),
        });
      }
    }
    assert.equal(ids.length, 37);
    const enrolled = new Map<string, string>();
    const probes: { name: string; file: string }[] = [];
    for (const id of ids) {
      let done = false;
      for (const f of id.files) {
        if (!done) {
          const r = await consentAndEnroll(v, 'event-photos', [readFileSync(f)]).catch(() => null);
          if (r) {
            enrolled.set(r.subjectId, id.name);
            done = true;
            continue;
          }
        }
        if (done) probes.push({ name: id.name, file: f });
      }
    }
    assert.ok(enrolled.size >= 35, `enrolled ${enrolled.size} of 37`);
    let correct = 0,
      wrong = 0,
      missed = 0,
      searched = 0;
    for (const p of probes) {
      const r = await v.search
        .identify(operator, { purpose: 'event-photos', image: readFileSync(p.file), ...why })
        .catch(() => null);
      if (r) searched++;
      const top = r?.candidates[0];
      if (!top) missed++;
      else if (enrolled.get(top.subjectId) === p.name) correct++;
      else wrong++;
    }
    // Calibration: FNMR 0.7%, FMR 0.07% per pair -> at 36 subjects about 2.5% of probes may meet a false match.
    const n = probes.length;
    assert.ok(n >= 80, `${n} probes`);
    assert.ok(correct / n >= 0.95, `rank-1 ${correct}/${n}, wrong ${wrong}, missed ${missed}`);
    assert.ok(wrong / n <= 0.03, `wrong ${wrong}/${n}`);
    const searches = await v.store.db.selectFrom('searches').selectAll().execute();
    assert.equal(searches.length, searched, 'every search is accounted for');
    assert.ok(searches.every((s) => /^[0-9a-f]{64}$/.test(s.probe_sha256)));
    await v.close();
  });

  test('templates are encrypted at rest: the raw database files hold no embedding bytes', async () => {
    const v = await veil();
    await eventPurpose(v);
    const img = face('deepface_small/id03/' + readdirSync(join(FACES, 'deepface_small/id03'))[0]);
    const { subjectId } = await consentAndEnroll(v, 'event-photos', [img]);
    const emb = (await (await engine()).analyze(img)).faces[0]!.embedding;
    const needle = vectorBytes(emb).subarray(0, 16);
    // The files the engine writes: SQLite's file and WAL, or PostgreSQL's data directory after a checkpoint.
    let files: string[];
    if (v.store.engine === 'postgres') {
      await sql`checkpoint`.execute(v.store.db);
      const dataDir = process.env['VEIL_TEST_PG_DATA'];
      assert.ok(dataDir, 'VEIL_TEST_PG_DATA names the cluster directory to scan');
      files = (readdirSync(dataDir, { recursive: true }) as string[])
        .map((f) => join(dataDir, f))
        .filter((f) => /(base|pg_wal)\//.test(f) && statSync(f, { throwIfNoEntry: false })?.isFile());
    } else {
      await v.store.db.destroy();
      files = ['veil.db', 'veil.db-wal'].map((f) => join(v.dataDir, f)).filter((f) => existsSync(f));
    }
    assert.ok(files.length > 0);
    for (const f of files) {
      // PostgreSQL (other tests' databases share the cluster) may remove a cache file between the listing and the read.
      let bytes = Buffer.alloc(0);
      try {
        bytes = readFileSync(f);
      } catch (e) {
        if ((e as { code?: string }).code !== 'ENOENT') throw e;
      }
      assert.equal(bytes.indexOf(needle), -1, `${f} holds embedding bytes`);
    }
    assert.ok(subjectId);
    if (v.store.engine === 'postgres') await v.close();
  });

  test('the index after a rebuild from the store equals the index after incremental updates', async () => {
    const v = await veil();
    await eventPurpose(v);
    const dir = (id: string) =>
      readdirSync(join(FACES, 'deepface_small', id)).map((f) => `deepface_small/${id}/${f}`)[0]!;
    const people = [dir('id01'), dir('id02'), dir('id04'), 'faceapi_bbt/raj/raj1.png'];
    const enrolled = [];
    for (const p of people) enrolled.push(await consentAndEnroll(v, 'event-photos', [face(p)]));
    await v.consents.withdraw(operator, enrolled[1]!.consent.id);
    await v.subjects.setRestricted(operator, enrolled[2]!.subjectId, true, 'test');
    const incremental = v.index.snapshot();
    await v.close();
    const v2 = await openVeil({
      ...(v.databaseUrl ? { databaseUrl: v.databaseUrl } : {}),
      dataDir: v.dataDir,
      engine: await engine(),
      env: {},
      clock: v.clock,
    });
    assert.deepEqual(v2.index.snapshot(), incremental);
    assert.equal(v2.index.size(), 2);
    const r = verifyExport(
      (await collect(v2.auditLog.exportLines(v2.store.db))).map((l) => JSON.stringify(l)),
      { trustedPublicKeys: [v2.auditLog.publicKeyPem] },
    );
    assert.equal(r.ok, true, JSON.stringify(r.failure));
    await v2.close();
  });
});

describe('photo ingestion and redaction', () => {
  test('group photos create sightings only for enrolled people; other faces keep only boxes; redaction blurs exactly them', async () => {
    const v = await veil();
    await eventPurpose(v);
    const obama = await consentAndEnroll(v, 'event-photos', [face('face_recognition/obama/test_obama.jpg')]);
    const templatesBefore = (await v.store.db.selectFrom('templates').selectAll().execute()).length;
    const photo = face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg');
    const out = await v.media.ingest(operator, 'event-photos', { name: 'party.jpg', bytes: photo });
    assert.equal(out.status, 'ingested');
    if (out.status !== 'ingested') return;
    assert.equal(out.faces, 3);
    assert.equal(out.sightings, 1);
    assert.equal(
      (await v.store.db.selectFrom('templates').selectAll().execute()).length,
      templatesBefore,
      'no template for unmatched faces',
    );
    const faces = await v.media.faces(operator, out.mediaId);
    assert.deepEqual(faces.map((f) => f.subjectId).filter(Boolean), [obama.subjectId]);
    assert.ok(faces.every((f) => f.subjectId || f.similarity === null));
    const again = await v.media.ingest(operator, 'event-photos', { name: 'party-copy.jpg', bytes: photo });
    assert.equal(again.status, 'skipped');
    const sightings = await v.subjects.sightings(operator, obama.subjectId);
    assert.equal(sightings.length, 1);

    const red = await v.media.redact(operator, out.mediaId);
    assert.equal(red.blurred, 2);
    assert.equal(red.shown, 1);
    // Blurred regions lose their detail; the consenting face keeps it.
    const detail = async (img: Buffer, b: { x: number; y: number; width: number; height: number }) => {
      const { data } = await sharp(img)
        .extract({
          left: Math.round(b.x + b.width * 0.25),
          top: Math.round(b.y + b.height * 0.25),
          width: Math.round(b.width / 2),
          height: Math.round(b.height / 2),
        })
        .greyscale()
        .raw()
        .toBuffer({ resolveWithObject: true });
      let s = 0;
      for (let i = 1; i < data.length; i++) s += Math.abs(data[i]! - data[i - 1]!);
      return s / data.length;
    };
    for (const f of faces) {
      const before = await detail(photo, f.box);
      const after = await detail(red.jpeg, f.box);
      if (f.subjectId) assert.ok(after > before * 0.7, `consenting face kept: ${before} -> ${after}`);
      else assert.ok(after < before * 0.35, `other face blurred: ${before} -> ${after}`);
    }
    // Consent withdrawn after ingestion: the next redaction blurs that face too.
    await v.consents.withdraw(operator, obama.consent.id);
    assert.equal((await v.media.redact(operator, out.mediaId)).blurred, 3);
    await v.close();
  });

  test('a suppressed face cannot be enrolled and creates no sighting', async () => {
    const v = await veil();
    await eventPurpose(v);
    const img = face('face_recognition/obama/test_obama.jpg');
    const a = await consentAndEnroll(v, 'event-photos', [img]);
    const emb = (await (await engine()).analyze(face('face_recognition/obama/test_obama2.jpg'))).faces[0]!.embedding;
    await v.suppression.add(operator, {
      embedding: emb,
      model: v.engine.modelId,
      reason: 'objection (Art. 21)',
      at: v.clock.now().toISOString(),
    });
    const consent = await giveConsent(v);
    assert.equal(
      await code(
        v.gallery.enroll(operator, {
          purpose: 'event-photos',
          consentId: consent.id,
          images: [face('face_recognition/obama/test_obama3.jpg')],
        }),
      ),
      'SUBJECT_SUPPRESSED',
    );
    const out = await v.media.ingest(operator, 'event-photos', {
      name: 'p.jpg',
      bytes: face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg'),
    });
    assert.equal(out.status === 'ingested' && out.sightings, 0);
    assert.ok(a.subjectId);
    await v.close();
  });
});

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

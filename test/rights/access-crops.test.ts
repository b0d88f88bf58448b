import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unzipSync, strFromU8 } from 'fflate';
import sharp from 'sharp';
import type { Veil } from '../../src/app/veil.js';
import { buildApp } from '../../src/api/app.js';
import { mediaRepository } from '../../src/gallery/media.repository.js';
import type { SubjectId } from '../../src/ids.js';
import { face } from '../helpers.js';
import { operator } from '../gallery/fixture.js';
import { enrollPerson, rightsVeil } from './fixture.js';

// Sighting crops made at ingestion (schema version 14): sealed under the person's key, read back by
// the access export, gone with the sighting's link.

const OBAMA = ['face_recognition/obama/test_obama.jpg', 'face_recognition/obama/test_obama2.jpg'];
const BIDEN = 'face_recognition/biden/test_biden.jpg';
const GROUP = 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg';
const JPEG_START = Buffer.from([0xff, 0xd8, 0xff]);

const cropsOf = (v: Veil, subjectId: string) =>
  v.store.db
    .selectFrom('sighting_crops')
    .innerJoin('media_faces', 'media_faces.id', 'sighting_crops.face_id')
    .select(['sighting_crops.face_id', 'sighting_crops.sealed', 'media_faces.media_id'])
    .where('sighting_crops.subject_id', '=', subjectId)
    .orderBy('sighting_crops.face_id')
    .execute();

test('ingestion seals each sighting’s crop under that person’s key; the access ZIP stores every crop, making the missing ones again identically', async () => {
  const { v, smtp, done } = await rightsVeil();
  try {
    const p = await enrollPerson(v, [face(OBAMA[0]!)], 'barack@example.org');
    const b = await enrollPerson(v, [face(BIDEN)]);
    const group = await v.media.ingest(operator, 'events', { name: 'party.jpg', bytes: face(GROUP) });
    const solo = await v.media.ingest(operator, 'events', { name: 'solo.jpg', bytes: face(OBAMA[1]!) });
    assert.ok(group.status === 'ingested' && solo.status === 'ingested');
    assert.equal(group.sightings, 2);
    const mine = await cropsOf(v, p.subjectId);
    assert.equal(mine.length, 2, 'one crop per sighting of the person');
    assert.equal((await cropsOf(v, b.subjectId)).length, 1, 'and one for the other person in the group photo');

    // Sealed: the stored bytes are no JPEG; only the person's key opens them.
    const key = await v.keyring.get(v.store.db, p.subjectId);
    const otherKey = await v.keyring.get(v.store.db, b.subjectId);
    const clear = new Map<string, Buffer>();
    for (const c of mine) {
      assert.ok(!c.sealed.subarray(0, 3).equals(JPEG_START), 'not a JPEG at rest');
      const jpeg = v.vault.openCrop(key, c.face_id, p.subjectId as SubjectId, c.sealed);
      assert.ok(jpeg.subarray(0, 3).equals(JPEG_START));
      assert.ok(!c.sealed.includes(jpeg.subarray(100, 164)), 'no clear run of the crop in the sealed bytes');
      for (const k of [otherKey, v.master.derive('media'), v.master.derive('exports')])
        assert.throws(() => v.vault.openCrop(k, c.face_id, p.subjectId as SubjectId, c.sealed), {
          code: 'KEY_DESTROYED',
        });
      // Bound to its sighting: a crop moved to another face id does not open.
      assert.throws(() => v.vault.openCrop(key, 'face_other', p.subjectId as SubjectId, c.sealed), {
        code: 'KEY_DESTROYED',
      });
      clear.set(c.media_id, jpeg);
    }

    // A sighting ingested before crops were kept: its crop is made at export time.
    const old = mine.find((c) => c.media_id === group.mediaId)!;
    await v.store.db.deleteFrom('sighting_crops').where('face_id', '=', old.face_id).execute();

    const r = await v.rights.intake.submit({ kind: 'access', email: 'barack@example.org' });
    const { downloadToken } = await v.rights.intake.verify(r.requestId, { code: smtp.codeFor('barack@example.org') });
    const out = await v.rights.queue.fulfil(operator, r.requestId);
    assert.equal(out.request.outcome!['files'], 2);
    const download = (await v.rights.queue.download(operator, r.requestId)).bytes;
    const zip = unzipSync(new Uint8Array(download));
    const s = JSON.parse(strFromU8(zip['manifest.json']!)).subjects[0];
    assert.equal(s.sightings.length, 2);
    for (const sg of s.sightings as { mediaId: string; image: string }[]) {
      const bytes = Buffer.from(zip[sg.image]!);
      assert.equal((await sharp(bytes).metadata()).format, 'jpeg');
      assert.ok(bytes.equals(clear.get(sg.mediaId)!), `${sg.mediaId}: the crop made at ingestion, byte for byte`);
      // Stored, not deflated: the JPEG's bytes are in the ZIP as they are.
      assert.ok(download.includes(bytes), 'a stored entry');
    }
    // Over HTTP the person's download is decrypted a segment at a time as it is sent: the same bytes.
    const app = await buildApp({ services: v.services });
    const res = await app.inject({
      method: 'GET',
      url: `/v1/rights/requests/${r.requestId}/download?token=${encodeURIComponent(downloadToken)}`,
    });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-type'], 'application/zip');
    assert.ok(res.rawPayload.equals(download));
    const wrong = await app.inject({ method: 'GET', url: `/v1/rights/requests/${r.requestId}/download?token=nope` });
    assert.equal(wrong.statusCode, 404);
    await app.close();
    assert.deepEqual(
      Object.keys(zip).sort(),
      ['manifest.json', ...s.sightings.map((x: { image: string }) => x.image)].sort(),
    );
  } finally {
    await done();
  }
});

test('consent withdrawn for one purpose removes the crops of that purpose’s sightings only; erasure removes the rest and their key', async () => {
  const { v, done } = await rightsVeil();
  try {
    await v.purposes.create(operator, {
      key: 'archive',
      name: 'Archive',
      description: 'Photo archive of members who keep their pictures.',
      lawfulBasis: 'consent',
    });
    const p = await enrollPerson(v, [face(OBAMA[0]!)]);
    const { consent: archive } = await v.consents.give(operator, {
      purpose: 'archive',
      subjectId: p.subjectId,
      noticeText: 'We keep your member photos in the archive.',
      noticeVersion: '1',
      method: 'paper',
      collector: 'desk',
    });
    await v.gallery.enroll(operator, { purpose: 'archive', consentId: archive.id, images: [face(OBAMA[0]!)] });
    const inEvents = await v.media.ingest(operator, 'events', { name: 'a.jpg', bytes: face(OBAMA[1]!) });
    const inArchive = await v.media.ingest(operator, 'archive', { name: 'a.jpg', bytes: face(OBAMA[1]!) });
    assert.ok(inEvents.status === 'ingested' && inArchive.status === 'ingested');
    assert.deepEqual(
      (await cropsOf(v, p.subjectId)).map((c) => c.media_id).sort(),
      [inEvents.mediaId, inArchive.mediaId].sort(),
    );

    await v.consents.withdraw(operator, p.consent.id);
    assert.deepEqual(
      (await cropsOf(v, p.subjectId)).map((c) => c.media_id),
      [inArchive.mediaId],
      'the withdrawn purpose’s crop went with its sighting; the other purpose keeps its own',
    );

    const sealed = (await cropsOf(v, p.subjectId))[0]!;
    const key = await v.keyring.get(v.store.db, p.subjectId);
    await v.lifecycle.erase([p.subjectId], operator, null);
    assert.equal((await cropsOf(v, p.subjectId)).length, 0, 'no crop row after erasure');
    const any = await v.store.db.selectFrom('sighting_crops').select('face_id').execute();
    assert.equal(any.length, 0);
    // A copy of the sealed crop taken before (a backup) is unreadable: the only key that opened it is shredded.
    await assert.rejects(v.keyring.get(v.store.db, p.subjectId), { code: 'KEY_DESTROYED' });
    assert.ok(v.vault.openCrop(key, sealed.face_id, p.subjectId as SubjectId, sealed.sealed).length > 0);
  } finally {
    await done();
  }
});

test('a photo deleted (media retention deletes its row) takes its faces and their crops with it', async () => {
  const { v, done } = await rightsVeil();
  try {
    const p = await enrollPerson(v, [face(OBAMA[0]!)]);
    const kept = await v.media.ingest(operator, 'events', { name: 'kept.jpg', bytes: face(OBAMA[1]!) });
    const gone = await v.media.ingest(operator, 'events', { name: 'gone.jpg', bytes: face(GROUP) });
    assert.ok(kept.status === 'ingested' && gone.status === 'ingested');
    assert.equal((await cropsOf(v, p.subjectId)).length, 2);
    // What RetentionService does with photos past their retention.
    await v.store.transaction((tx) => mediaRepository.deleteMany(tx, [gone.mediaId]));
    assert.deepEqual(
      (await cropsOf(v, p.subjectId)).map((c) => c.media_id),
      [kept.mediaId],
    );
    const orphans = await v.store.db
      .selectFrom('sighting_crops')
      .leftJoin('media_faces', 'media_faces.id', 'sighting_crops.face_id')
      .select('sighting_crops.face_id')
      .where('media_faces.id', 'is', null)
      .execute();
    assert.deepEqual(orphans, [], 'no crop outlives its face row');
  } finally {
    await done();
  }
});

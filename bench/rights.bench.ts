// Rights: time to fulfil an access request and an erasure for a subject with 20 templates and
// 10,000 sightings in a 100,000-template gallery. The gallery is written straight through the
// repositories (sealed random unit vectors) so the bench measures the rights engine, not enrollment.
import { actors } from '../src/auth/actor.js';
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import { newId, type PurposeId, type SubjectId, type TemplateId } from '../src/ids.js';
import { seal } from '../src/privacy/keys.js';
import { subjectRepository } from '../src/gallery/subject.repository.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';
import { benchPurpose } from './seed.js';

const GALLERY = Number(process.env['RIGHTS_BENCH_GALLERY'] ?? 100_000);
const SIGHTINGS = Number(process.env['RIGHTS_BENCH_SIGHTINGS'] ?? 10_000);
const actor = actors.system('bench');
const dataDir = tempDir('veil-rights-bench-');
const engine = await FaceEngine.create();
let v = await openVeil({ dataDir, engine, env: {} });
const purpose = await benchPurpose(v, 'events');
const pid = purpose.id as PurposeId;
const now = new Date().toISOString();

function unit(): Float32Array {
  const x = new Float32Array(512);
  let s = 0;
  for (let i = 0; i < 512; i++) {
    x[i] = Math.random() - 0.5;
    s += x[i]! * x[i]!;
  }
  return x.map((y) => y / Math.sqrt(s));
}

// 100k templates: 1 per synthetic subject, each under its own data key.
let t = performance.now();
const BATCH = 2000;
for (let i = 0; i < GALLERY - 20; i += BATCH) {
  await v.store.transaction(async (tx) => {
    for (let j = i; j < Math.min(GALLERY - 20, i + BATCH); j++) {
      const sid = newId.subject();
      await subjectRepository.insert(tx, { id: sid, region: null, contactHash: null, contactSealed: null, at: now });
      const key = await v.keyring.create(tx, sid, now);
      const tid = newId.template();
      await subjectRepository.insertTemplate(
        tx,
        {
          id: tid,
          subjectId: sid,
          purposeId: pid,
          model: v.engine.modelId,
          quality: {},
          sourceSha256: '0'.repeat(64),
          sealed: v.vault.sealTemplate(key, tid, sid, pid, unit()),
          imagePath: null,
          createdAt: now,
        },
        512,
      );
      await subjectRepository.upsertEnrollment(tx, {
        subjectId: sid,
        purposeId: pid,
        consentId: null,
        sourceReference: 'bench',
        at: now,
      });
    }
  });
}
const fillSeconds = (performance.now() - t) / 1000;

// The person: consent, 20 real templates (the same photo set, re-enrolled), contact email.
const photo = readFileSync(join(FACES, 'face_recognition/obama/test_obama.jpg'));
const { consent } = await v.consents.give(actor, {
  purpose: 'events',
  noticeText: 'We match your face against event photos to find you.',
  noticeVersion: '1',
  method: 'api',
  collector: 'bench',
  contactEmail: 'person@example.org',
});
const person = consent.subjectId as SubjectId;
const first = await v.gallery.enroll(actor, { purpose: 'events', consentId: consent.id, images: [photo] });
const personKey = await v.keyring.get(v.store.db, person);
const vec = (await engine.analyze(photo)).faces[0]!.embedding;
await v.store.transaction(async (tx) => {
  for (let i = 1; i < 20; i++) {
    const tid = newId.template() as TemplateId;
    await subjectRepository.insertTemplate(
      tx,
      {
        id: tid,
        subjectId: person,
        purposeId: pid,
        model: v.engine.modelId,
        quality: {},
        sourceSha256: '1'.repeat(64),
        sealed: v.vault.sealTemplate(personKey, tid, person, pid, vec),
        imagePath: null,
        createdAt: now,
      },
      512,
    );
  }
});
// 10k sightings: one small photo per media, sealed like ingestion does.
const small = await sharp(readFileSync(join(FACES, 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg')))
  .resize(320)
  .jpeg({ quality: 80 })
  .toBuffer();
const mediaKey = v.master.derive('media');
mkdirSync(join(dataDir, 'media', pid), { recursive: true });
t = performance.now();
for (let i = 0; i < SIGHTINGS; i += 1000) {
  await v.store.transaction(async (tx) => {
    for (let j = i; j < Math.min(SIGHTINGS, i + 1000); j++) {
      const mid = newId.media();
      const rel = join('media', pid, `${mid}.sealed`);
      writeFileSync(join(dataDir, rel), seal(mediaKey, small, `veil.media:${mid}`));
      await tx
        .insertInto('media')
        .values({
          id: mid,
          purpose_id: pid,
          sha256: mid,
          filename: `p${j}.jpg`,
          width: 320,
          height: 228,
          stored_path: rel,
          ingested_at: now,
        })
        .execute();
      await tx
        .insertInto('media_faces')
        .values([
          {
            id: newId.other('face'),
            media_id: mid,
            box: JSON.stringify({ x: 160, y: 40, width: 40, height: 40 }),
            det_score: 1,
            subject_id: person,
            similarity: 0.7,
            created_at: now,
          },
          {
            id: newId.other('face'),
            media_id: mid,
            box: JSON.stringify({ x: 100, y: 50, width: 40, height: 40 }),
            det_score: 1,
            subject_id: null,
            similarity: null,
            created_at: now,
          },
        ])
        .execute();
    }
  });
}
const sightingSeconds = (performance.now() - t) / 1000;
await v.close();

// Restart: the index is rebuilt from the store (every template decrypted under its subject key).
t = performance.now();
v = await openVeil({ dataDir, engine, env: {} });
const startSeconds = (performance.now() - t) / 1000;
const indexSize = v.index.size();

async function verified(kind: 'access' | 'erasure'): Promise<string> {
  const r = await v.rights.intake.submit({ kind, email: 'person@example.org' });
  // The bench reads the code from the outbox file the embedded mailer wrote.
  const { readdirSync } = await import('node:fs');
  const files = readdirSync(join(dataDir, 'outbox')).sort();
  const code = readFileSync(join(dataDir, 'outbox', files.at(-1)!), 'utf8').match(/code: (\d{6})/)![1]!;
  await v.rights.intake.verify(r.requestId, { code });
  return r.requestId;
}

const accessId = await verified('access');
t = performance.now();
await v.rights.queue.fulfil(actor, accessId);
const accessSeconds = (performance.now() - t) / 1000;

const eraseId = await verified('erasure');
t = performance.now();
const erased = await v.rights.queue.fulfil(actor, eraseId);
const erasureSeconds = (performance.now() - t) / 1000;
const stillIndexed = v.index.templatesOf(person).length;
await v.close();

process.stdout.write(
  JSON.stringify({
    gallery: indexSize,
    templatesOfSubject: 20,
    sightings: SIGHTINGS,
    fillSeconds,
    sightingSeconds,
    restartWithIndexRebuildSeconds: startSeconds,
    accessSeconds,
    accessZipMb: (await v.rights.queue.download(actor, accessId)).bytes.length / 2 ** 20,
    erasureSeconds,
    erasedTemplates: erased.certificate!.subjects[0]!.templates,
    erasedSightings: erased.certificate!.subjects[0]!.sightingsUnlinked,
    stillIndexed,
    firstEnrollTemplates: first.templates.length,
  }) + '\n',
);

// Access export (Art. 15) of a person with 10,000 sightings in 10,000 distinct photos of 1,600 px,
// timed to the last byte of the sealed export file: with the crops made at ingestion (the new path)
// and, in the same run, with those crops removed so every crop is made from its photo at export time
// (the path sightings ingested before schema version 14 take, and what every export did before).
//
// Bulk path (documented in docs/benchmarks.md): the photos are the shared two-person photo resized to
// 1,600 px with the photo's number stamped in a corner (distinct bytes, distinct SHA-256), made once
// and kept in EXPORT_BENCH_PHOTOS (default: a folder under the OS temp dir). The first photo goes
// through real ingestion (the engine finds both faces and matches both people); the others are
// recorded with the same boxes and matches, their crops made and sealed by the function ingestion
// uses (sealedSightingCrops), and their photos sealed as ingestion seals them.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { actors } from '../src/auth/actor.js';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import { newId, type MediaId, type PurposeId, type SubjectId } from '../src/ids.js';
import { seal } from '../src/privacy/keys.js';
import { mediaRepository, type MediaFaceRow, type SightingCropRow } from '../src/gallery/media.repository.js';
import { sealedSightingCrops } from '../src/gallery/sighting-crops.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';
import { benchPurpose } from './seed.js';

const N = Number(process.env['EXPORT_BENCH_SIGHTINGS'] ?? 10_000);
const RUNS = Number(process.env['EXPORT_BENCH_RUNS'] ?? 3);
const OLD_RUNS = Number(process.env['EXPORT_BENCH_OLD_RUNS'] ?? 1);
const WIDTH = 1600;
const PHOTOS = process.env['EXPORT_BENCH_PHOTOS'] ?? join(tmpdir(), `veil-export-bench-${WIDTH}`);
const GROUP = join(FACES, 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg');
const actor = actors.system('bench');
const log = (m: string) => process.stderr.write(`export bench: ${m}\n`);

async function pool<T>(items: readonly T[], size: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: size }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

// 1. The photos, once: distinct JPEGs of 1,600 px (the number in 8-pixel black and white squares).
let t = performance.now();
mkdirSync(PHOTOS, { recursive: true });
const base = await sharp(readFileSync(GROUP)).resize(WIDTH).removeAlpha().raw().toBuffer({ resolveWithObject: true });
const photoPath = (i: number) => join(PHOTOS, `${i}.jpg`);
const missing = Array.from({ length: N }, (_, i) => i).filter((i) => !existsSync(photoPath(i)));
await pool(missing, 2, async (i) => {
  const px = Buffer.from(base.data);
  for (let bit = 0; bit < 24; bit++)
    for (let y = 0; y < 8; y++)
      for (let x = 0; x < 8; x++)
        px.fill(
          (i >> bit) & 1 ? 255 : 0,
          (y * base.info.width + bit * 8 + x) * 3,
          (y * base.info.width + bit * 8 + x) * 3 + 3,
        );
  const jpeg = await sharp(px, { raw: { width: base.info.width, height: base.info.height, channels: 3 } })
    .jpeg({ quality: 85 })
    .toBuffer();
  writeFileSync(photoPath(i), jpeg);
});
const photosSeconds = (performance.now() - t) / 1000;
log(`${missing.length} photos made in ${photosSeconds.toFixed(1)} s (${N - missing.length} were there)`);
if (process.env['EXPORT_BENCH_PHOTOS_ONLY']) process.exit(0);

// 2. The gallery: two people with consent; the first photo through real ingestion.
const dataDir = tempDir('veil-export-bench-');
const engine = await FaceEngine.create();
const v = await openVeil({ dataDir, engine, env: { VEIL_LIMITS_PUBLIC_PER_CONTACT_PER_HOUR: '1000' } });
const purpose = await benchPurpose(v, 'events');
const pid = purpose.id as PurposeId;
async function enroll(photo: string, email?: string): Promise<SubjectId> {
  const { consent } = await v.consents.give(actor, {
    purpose: 'events',
    noticeText: 'We match your face against event photos to find you.',
    noticeVersion: '1',
    method: 'api',
    collector: 'bench',
    ...(email ? { contactEmail: email } : {}),
  });
  await v.gallery.enroll(actor, {
    purpose: 'events',
    consentId: consent.id,
    images: [readFileSync(join(FACES, photo))],
  });
  return consent.subjectId as SubjectId;
}
const person = await enroll('face_recognition/obama/test_obama.jpg', 'person@example.org');
await enroll('face_recognition/biden/test_biden.jpg');
const first = await v.media.ingest(actor, 'events', { name: '0.jpg', bytes: readFileSync(photoPath(0)) });
if (first.status !== 'ingested' || first.sightings !== 2) throw new Error(`first photo: ${JSON.stringify(first)}`);
const model = await mediaRepository.faces(v.store.db, first.mediaId);
if (!model.some((f) => f.subjectId === person)) throw new Error('the person was not matched in the first photo');

// 3. The other photos, recorded as ingestion records them (bulk), crops made by ingestion's function.
const mediaKey = v.master.derive('media');
mkdirSync(join(dataDir, 'media', pid), { recursive: true, mode: 0o700 });
t = performance.now();
let cropSeconds = 0;
const now = new Date().toISOString();
for (let from = 1; from < N; from += 200) {
  const batch: { id: MediaId; bytes: Buffer; faces: MediaFaceRow[]; crops: SightingCropRow[] }[] = [];
  const idx = Array.from({ length: Math.min(200, N - from) }, (_, k) => from + k);
  await pool(idx, 3, async (i) => {
    const bytes = readFileSync(photoPath(i));
    const faces = model.map((f) => ({ ...f, id: newId.other('face') }));
    const c0 = performance.now();
    const crops = await sealedSightingCrops(v, v.store.db, bytes, faces);
    cropSeconds += (performance.now() - c0) / 1000;
    batch.push({ id: newId.media(), bytes, faces, crops });
  });
  await v.store.transaction(async (tx) => {
    for (const m of batch) {
      const rel = join('media', pid, `${m.id}.sealed`);
      writeFileSync(join(dataDir, rel), seal(mediaKey, m.bytes, `veil.media:${m.id}`), { mode: 0o600 });
      const info = { purposeId: pid, filename: `${m.id}.jpg`, width: WIDTH, height: base.info.height };
      await mediaRepository.insert(tx, { id: m.id, sha256: m.id, storedPath: rel, at: now, ...info }, m.faces, m.crops);
    }
  });
  if ((from - 1) % 2000 === 0) log(`${from + batch.length} of ${N} photos recorded`);
}
const bulkSeconds = (performance.now() - t) / 1000;

// 4. Exports, each a new verified access request, timed from fulfil to the closed, sealed file.
async function exportOnce(): Promise<{
  seconds: number;
  cpuSeconds: number;
  mb: number;
  files: number;
  peakRssMb: number;
  rssBeforeMb: number;
}> {
  const r = await v.rights.intake.submit({ kind: 'access', email: 'person@example.org' });
  const outbox = readdirSync(join(dataDir, 'outbox')).sort();
  const code = readFileSync(join(dataDir, 'outbox', outbox.at(-1)!), 'utf8').match(/code: (\d{6})/)![1]!;
  await v.rights.intake.verify(r.requestId, { code });
  const rssBefore = process.memoryUsage.rss();
  let peak = rssBefore;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 20);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const out = await v.rights.queue.fulfil(actor, r.requestId);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(c0);
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage.rss());
  if (Number(out.request.outcome!['files']) !== N)
    throw new Error(`the export has ${String(out.request.outcome!['files'])} files, not ${N}`);
  const art = readdirSync(join(dataDir, 'exports')).find((f) => f.startsWith(r.requestId))!;
  const { size } = await import('node:fs').then((fs) => fs.statSync(join(dataDir, 'exports', art)));
  return {
    seconds,
    // This process's CPU (sharp's threads included): on a shared machine, the work itself.
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    mb: size / 2 ** 20,
    files: Number(out.request.outcome!['files']),
    peakRssMb: peak / 2 ** 20,
    rssBeforeMb: rssBefore / 2 ** 20,
  };
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const stored = [];
for (let i = 0; i < RUNS; i++) {
  stored.push(await exportOnce());
  log(`stored crops: ${JSON.stringify(stored.at(-1))}`);
}
await v.store.db.deleteFrom('sighting_crops').where('subject_id', '=', person).execute();
const made = [];
for (let i = 0; i < OLD_RUNS; i++) {
  made.push(await exportOnce());
  log(`crops made at export: ${JSON.stringify(made.at(-1))}`);
}
await v.close();

process.stdout.write(
  JSON.stringify({
    sightings: N,
    loadAverage: loadavg().map((l) => Math.round(l * 10) / 10),
    photoWidth: WIDTH,
    photoHeight: base.info.height,
    photosSeconds,
    bulkSeconds,
    ingestCropMsPerPhoto: (cropSeconds / (N - 1)) * 1000,
    storedRuns: stored,
    storedMedianSeconds: median(stored.map((r) => r.seconds)),
    storedMedianCpuSeconds: median(stored.map((r) => r.cpuSeconds)),
    madeRuns: made,
    madeMedianSeconds: median(made.map((r) => r.seconds)),
    madeMedianCpuSeconds: median(made.map((r) => r.cpuSeconds)),
    exportMb: stored[0]!.mb,
    files: stored[0]!.files,
  }) + '\n',
);

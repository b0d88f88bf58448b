// Gallery: enroll throughput, identify latency end to end at 10k and 100k (real probe photos,
// synthetic unit vectors filling the index), index search alone at 10k/100k/1M, ingestion photos/s.
import { actors } from '../src/auth/actor.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import { NativeExactIndex, ExactIndex } from '../src/vector/vector-index.js';
import type { PurposeId, SubjectId, TemplateId } from '../src/ids.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';
import { benchImages } from './face.images.js';
import { median, percentile } from './stats.js';
import { benchPurpose } from './seed.js';

const actor = actors.system('bench');
const NOTICE = 'We match your face against event photos to find the pictures you appear in.';
const engine = await FaceEngine.create();
const v = await openVeil({ dataDir: tempDir('veil-gallery-bench-'), engine, env: {} });
const purpose = await benchPurpose(v, 'events');

// Enroll: consent record + enrollment (quality gate, duplicate check, encryption, audit) per person.
const images = benchImages();
let t = performance.now();
let enrolled = 0;
for (const im of images) {
  const { consent } = await v.consents.give(actor, {
    purpose: 'events',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'bench',
  });
  await v.gallery.enroll(actor, { purpose: 'events', consentId: consent.id, images: [im.bytes] }).then(
    () => enrolled++,
    () => undefined,
  );
}
const enrollPerSec = enrolled / ((performance.now() - t) / 1000);

function randomUnit(d: number): Float32Array {
  const x = new Float32Array(d);
  let s = 0;
  for (let i = 0; i < d; i++) {
    // Sum of uniforms: close enough to Gaussian for directions on the sphere.
    const g = Math.random() + Math.random() + Math.random() - 1.5;
    x[i] = g;
    s += g * g;
  }
  const k = 1 / Math.sqrt(s);
  for (let i = 0; i < d; i++) x[i]! *= k;
  return x;
}

const probes = readdirSync(join(FACES, 'face_recognition/obama')).map((f) =>
  readFileSync(join(FACES, 'face_recognition/obama', f)),
);
const e2e: Record<string, { p50: number; p99: number }> = {};
let filled = v.index.size(purpose.id);
for (const size of [10_000, 100_000]) {
  while (filled < size) {
    v.index.add({
      templateId: `tpl_synthetic${filled}` as TemplateId,
      subjectId: `sub_synthetic${filled}` as SubjectId,
      purposeId: purpose.id as PurposeId,
      vector: randomUnit(512),
    });
    filled++;
  }
  const lat: number[] = [];
  for (let r = 0; r < 5; r++) {
    for (const p of probes) {
      const s = performance.now();
      await v.search.identify(actor, { purpose: 'events', image: p, justification: 'bench' });
      lat.push(performance.now() - s);
    }
  }
  e2e[String(size)] = { p50: median(lat), p99: percentile(lat, 99) };
}

// The index alone, JS loop vs native SIMD, up to 1M.
const indexOnly: Record<string, { js?: { p50: number; p99: number }; native: { p50: number; p99: number } }> = {};
for (const size of [10_000, 100_000, 1_000_000]) {
  const nat = new NativeExactIndex(512, size);
  const js = size <= 100_000 ? new ExactIndex(512, size) : null;
  for (let i = 0; i < size; i++) {
    const u = randomUnit(512);
    nat.add(String(i), u);
    js?.add(String(i), u);
  }
  const time = (idx: { search: (q: Float32Array, k: number) => unknown }) => {
    const lat: number[] = [];
    for (let i = 0; i < 40; i++) {
      const q = randomUnit(512);
      const s = performance.now();
      idx.search(q, 10);
      lat.push(performance.now() - s);
    }
    return { p50: median(lat), p99: percentile(lat, 99) };
  };
  indexOnly[String(size)] = { native: time(nat), ...(js ? { js: time(js) } : {}) };
}

// Ingestion of group photos (every face detected, matched, boxes stored, photo sealed).
const groups = [
  ...readdirSync(join(FACES, 'faceapi_bbt/_group_photos')).map((f) => join(FACES, 'faceapi_bbt/_group_photos', f)),
  ...readdirSync(join(FACES, 'face_recognition/_multi_face')).map((f) =>
    join(FACES, 'face_recognition/_multi_face', f),
  ),
];
t = performance.now();
let faces = 0;
for (const g of groups) {
  const o = await v.media.ingest(actor, 'events', { name: g, bytes: readFileSync(g) });
  if (o.status === 'ingested') faces += o.faces;
}
const ingestPerSec = groups.length / ((performance.now() - t) / 1000);
await v.close();

process.stdout.write(
  JSON.stringify({
    enrolled,
    enrollPerSec,
    identifyEndToEndMs: e2e,
    indexSearchMs: indexOnly,
    ingest: { photos: groups.length, faces, photosPerSec: ingestPerSec },
  }) + '\n',
);

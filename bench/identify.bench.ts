// Identify end to end over HTTP at a 100,000-template gallery (issue target: p99 <= 60 ms for one-face
// 640 px probes, one engine worker per core), at concurrency 1 and at 30 req/s. The server is a real
// `veil serve` process; the gallery is bulk-seeded with distractors (seedBulk), the probes are real
// one-face photos scaled to 640 px. Baselines in the same run: the same probes at full size (large
// probes), and the engine alone in this process (detect + align + embed), so the HTTP, decode,
// search and accounting overhead shows as the difference.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import autocannon from 'autocannon';
import { actors } from '../src/auth/actor.js';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import type { PurposeId } from '../src/ids.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';
import { seedBulk } from './scale/startup.js';
import { startServer } from './serve.js';
import { median, percentile } from './stats.js';

const GALLERY = Number(process.env['IDENTIFY_GALLERY'] ?? 100_000);
const SECONDS = Number(process.env['IDENTIFY_SECONDS'] ?? 30);
const ROUNDS = Number(process.env['IDENTIFY_ROUNDS'] ?? 12);
const log = (s: string) => process.stderr.write(`identify: ${s}\n`);

const dataDir = tempDir('veil-identify-bench-');
const engine = await FaceEngine.create();
const v = await openVeil({ dataDir, engine, env: {} });
const actor = actors.system('bench');
const purpose = await v.purposes.create(actor, {
  key: 'events',
  name: 'Events',
  description: 'Find the photos of you taken at our events.',
  lawfulBasis: 'consent',
});
const unit = (i: number): Float32Array => {
  // A deterministic pseudo-random direction per row: cheap, and the scan cost does not depend on it.
  const x = new Float32Array(512);
  let s = 0;
  let h = (i + 1) * 2654435761;
  for (let d = 0; d < 512; d++) {
    h = (h ^ (h >>> 13)) * 1274126177;
    x[d] = ((h >>> 0) / 2 ** 32 - 0.5) * (1 + (d % 7) / 7);
    s += x[d]! * x[d]!;
  }
  return x.map((y) => y / Math.sqrt(s));
};
let t0 = performance.now();
await seedBulk(v, purpose.id as PurposeId, GALLERY, unit, log);
const seedSeconds = (performance.now() - t0) / 1000;
const { token } = await v.apiKeys.create(actor, { name: 'bench', role: 'operator', purposes: ['*'] });
await v.close();

// One-face probes: the first photo of each deepface_small person (640 px long side, as the target
// says), and, as the large-probe baseline, the 720p-3356 px one-face Obama photos of face_recognition.
const firstOf = (dir: string) => join(dir, readdirSync(dir).sort()[0]!);
const ids = readdirSync(join(FACES, 'deepface_small')).filter((d) => d.startsWith('id'));
const at640 = ids.map((d) => readFileSync(firstOf(join(FACES, 'deepface_small', d))));
const large = [
  'ex_obama-720p.jpg',
  'ex_obama-1080p.jpg',
  'knn_test_obama1.jpg',
  'test_obama.jpg',
  'test_obama3.jpg',
].map((f) => readFileSync(join(FACES, 'face_recognition/obama', f)));
const sizes = await Promise.all(large.map(async (b) => (await sharp(b).metadata()).width ?? 0));

// The engine alone on the 640 px probes, in this process: the floor of an identify.
const engineMs: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const b of at640) {
    const s = performance.now();
    await engine.analyze(b);
    engineMs.push(performance.now() - s);
  }
}

t0 = performance.now();
const server = await startServer(dataDir, { logs: true });
const startSeconds = (performance.now() - t0) / 1000;
const { url } = server;
const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const bodyOf = (b: Buffer) =>
  JSON.stringify({ purpose: 'events', image: b.toString('base64'), justification: 'bench' });

async function sequential(probes: Buffer[]): Promise<{ p50: number; p99: number; n: number; matches: number }> {
  const bodies = probes.map(bodyOf);
  const lat: number[] = [];
  let matches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const body of bodies) {
      const s = performance.now();
      const res = await fetch(`${url}/v1/identify`, { method: 'POST', headers, body });
      const j = (await res.json()) as { faces?: unknown[] };
      lat.push(performance.now() - s);
      if (res.status !== 200) throw new Error(`identify answered ${res.status}: ${JSON.stringify(j).slice(0, 200)}`);
      if (j.faces?.length) matches++;
    }
  }
  return { p50: median(lat), p99: percentile(lat, 99), n: lat.length, matches };
}

// Warm-up: the first requests pay for lazy initialisation in the workers.
await sequential(at640.slice(0, 2));
const c1at640 = await sequential(at640);
const c1large = await sequential(large);
const at30 = await new Promise<autocannon.Result>((resolve, reject) =>
  autocannon(
    {
      url: `${url}/v1/identify`,
      method: 'POST',
      headers,
      requests: at640.map((b) => ({ body: bodyOf(b) })),
      connections: 4,
      overallRate: 30,
      duration: SECONDS,
    },
    (e, r) => (e ? reject(e) : resolve(r)),
  ),
);
await server.stop();

process.stdout.write(
  JSON.stringify({
    gallery: GALLERY,
    workers: server.workers,
    seedSeconds,
    startSeconds,
    largeProbeWidths: sizes,
    engineAlone640: { p50: median(engineMs), p99: percentile(engineMs, 99), n: engineMs.length },
    concurrency1at640: c1at640,
    concurrency1large: c1large,
    at30rps640: {
      rps: at30.requests.average,
      p50: at30.latency.p50,
      p99: at30.latency.p99,
      total: at30.requests.total,
      non2xx: at30.non2xx,
      errors: at30.errors,
    },
  }) + '\n',
);

// Where the engine's tail comes from (issue 17 item 5): every stage of every bench probe timed over
// many rounds in one process, wall and CPU, ONNX Runtime's share of each stage apart, round by round.
// Not part of `npm run bench`; run it alone, under the bench lock:
//   TAIL_WARMUP=0 TAIL_ROUNDS=12 node --import tsx bench/face.tail.ts   (the engine before the warm-up)
//   TAIL_WARMUP=8 TAIL_ROUNDS=12 node --import tsx bench/face.tail.ts
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { InferenceSession } from 'onnxruntime-node';
import { FACES } from '../support/faces.js';
import { decode, DEFAULT_DECODE_OPTIONS, gradientJpeg, warmUpJpeg } from '../src/face/image.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession } from '../src/face/models.js';
import { UltraFaceDetector } from '../src/face/detector.js';
import { Landmarker, toFivePoints } from '../src/face/landmarks.js';
import { Embedder, align } from '../src/face/embedder.js';
import { median, percentile } from './stats.js';

const ROUNDS = Number(process.env['TAIL_ROUNDS'] ?? 12);
const WARM = Number(process.env['TAIL_WARMUP'] ?? 0);
// Another synthetic frame for the warm-up than the engine's (e.g. 1024x1024), to price its size.
const FRAME = process.env['TAIL_WARM_FRAME']?.split('x').map(Number);
const firstOf = (dir: string) => join(dir, readdirSync(dir).sort()[0]!);
const ids = readdirSync(join(FACES, 'deepface_small')).filter((d) => d.startsWith('id'));
const probes = ids.map((d) => ({ name: d, bytes: readFileSync(firstOf(join(FACES, 'deepface_small', d))) }));
const so = { intraOpThreads: 1 };
const [ds, ls, es] = await Promise.all([
  loadSession(DEFAULT_MODELS_DIR, MODELS.detector, so),
  loadSession(DEFAULT_MODELS_DIR, MODELS.landmarks, so),
  loadSession(DEFAULT_MODELS_DIR, MODELS.embedder, so),
]);
// ONNX Runtime's time inside each stage, apart from the JavaScript and libvips work around it.
const onnx = { det: 0, lm: 0, emb: 0 };
for (const [k, s] of [
  ['det', ds],
  ['lm', ls],
  ['emb', es],
] as const) {
  const run = s.run.bind(s) as (feeds: InferenceSession.FeedsType) => Promise<InferenceSession.ReturnType>;
  (s as { run: typeof run }).run = async (feeds) => {
    const t = performance.now();
    const r = await run(feeds);
    onnx[k] += performance.now() - t;
    return r;
  };
}
const det = new UltraFaceDetector(ds);
const lm = new Landmarker(ls);
const emb = new Embedder(es);

async function once(bytes: Uint8Array, box?: { x: number; y: number; width: number; height: number }) {
  const img = await decode(bytes, DEFAULT_DECODE_OPTIONS);
  const t1 = performance.now();
  const dets = box ? [{ box }] : await det.detect(img, {});
  if (box) await det.detect(img, {});
  const t2 = performance.now();
  let lmMs = 0;
  let alignMs = 0;
  let embedMs = 0;
  for (const d of dets) {
    const a = performance.now();
    const pts = toFivePoints(await lm.landmarks68(img, d.box, 2));
    const b = performance.now();
    const aligned = align(img, pts);
    const c = performance.now();
    await emb.embed(aligned);
    embedMs += performance.now() - c;
    lmMs += b - a;
    alignMs += c - b;
  }
  return { t1, t2, lmMs, alignMs, embedMs, faces: dets.length };
}

// The engine's warm-up, as FaceEngine.create({ warmUp }) runs it.
const synthetic = FRAME ? await gradientJpeg(FRAME[0]!, FRAME[1]!) : await warmUpJpeg();
for (let i = 0; i < WARM; i++) await once(synthetic, { x: 240, y: 150, width: 160, height: 200 });

type Row = Record<string, number>;
const all: Row[] = [];
for (let r = 0; r < ROUNDS; r++) {
  for (const p of probes) {
    onnx.det = onnx.lm = onnx.emb = 0;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const o = await once(p.bytes);
    const total = performance.now() - t0;
    const cu = process.cpuUsage(c0);
    all.push({
      total,
      cpu: (cu.user + cu.system) / 1000,
      decode: o.t1 - t0,
      detect: o.t2 - o.t1,
      detectOnnx: onnx.det,
      landmarks: o.lmMs,
      landmarksOnnx: onnx.lm,
      align: o.alignMs,
      embed: o.embedMs,
      faces: o.faces,
    });
  }
}
const keys = ['total', 'cpu', 'decode', 'detect', 'detectOnnx', 'landmarks', 'landmarksOnnx', 'align', 'embed'];
const f = (x: number) => x.toFixed(1);
const n = probes.length;
const stat = (rows: Row[], k: string) =>
  `${f(median(rows.map((r) => r[k]!)))}/${f(
    percentile(
      rows.map((r) => r[k]!),
      99,
    ),
  )}`;
console.log(
  `warm-up passes ${WARM} (frame ${FRAME?.join('x') ?? 'engine'}), ${ROUNDS} rounds of ${n} probes; p50/p99 ms per stage`,
);
console.log(`all rounds:      ${keys.map((k) => `${k} ${stat(all, k)}`).join(' | ')}`);
console.log(`rounds 2 and on: ${keys.map((k) => `${k} ${stat(all.slice(n), k)}`).join(' | ')}`);
console.log(`faces per probe: ${[...new Set(all.map((r) => r.faces))].join(', ')}`);
for (let r = 0; r < Math.min(ROUNDS, 4); r++) {
  console.log(
    `round ${r + 1} total/CPU ms: ${all
      .slice(r * n, (r + 1) * n)
      .map((x) => `${f(x.total!)}/${f(x.cpu!)}`)
      .join(' ')}`,
  );
}

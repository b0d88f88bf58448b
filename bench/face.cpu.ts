// CPU per photo by stage (issue 17 item 5): the engine's stages on the 640 px one-face probes, wall and
// CPU (process.cpuUsage, every thread of the process: libvips' and ONNX Runtime's included), with
// ONNX Runtime's share of each stage apart, for two engine configurations alternating photo by photo
// in one process so drift hits both alike. Not part of `npm run bench`; run it alone, under the lock:
//   CPU_OLD='{"flushTinyWeights":false}' CPU_NEW='{}' CPU_ROUNDS=10 node --import tsx bench/face.cpu.ts
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import type { InferenceSession } from 'onnxruntime-node';
import { FACES } from '../support/faces.js';
import { decode, DEFAULT_DECODE_OPTIONS, resizeRgb } from '../src/face/image.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession } from '../src/face/models.js';
import { UltraFaceDetector } from '../src/face/detector.js';
import { Landmarker, toFivePoints } from '../src/face/landmarks.js';
import { Embedder, align } from '../src/face/embedder.js';
import { faceQuality } from '../src/face/quality.js';
import { TINY_WEIGHT } from '../src/face/tiny-weights.js';
import { median, percentile } from './stats.js';

const ROUNDS = Number(process.env['CPU_ROUNDS'] ?? 10);
const firstOf = (dir: string) => join(dir, readdirSync(dir).sort()[0]!);
const ids = readdirSync(join(FACES, 'deepface_small')).filter((d) => d.startsWith('id'));
const probes = ids.map((d) => readFileSync(firstOf(join(FACES, 'deepface_small', d))));
const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Config {
  flushTinyWeights?: boolean;
}
/** The engine's stages as FaceEngine.run composes them, each timed, ONNX Runtime's runs apart. */
async function pipeline(c: Config) {
  const so = { intraOpThreads: 1, flushWeightsBelow: c.flushTinyWeights === false ? 0 : TINY_WEIGHT };
  const [ds, ls, es] = await Promise.all([
    loadSession(DEFAULT_MODELS_DIR, MODELS.detector, so),
    loadSession(DEFAULT_MODELS_DIR, MODELS.landmarks, so),
    loadSession(DEFAULT_MODELS_DIR, MODELS.embedder, so),
  ]);
  const acc: Record<string, { w: number; c: number }> = {};
  async function timed<T>(k: string, f: () => Promise<T> | T): Promise<T> {
    const w = performance.now(),
      c0 = cpu();
    const r = await f();
    const a = (acc[k] ??= { w: 0, c: 0 });
    a.w += performance.now() - w;
    a.c += cpu() - c0;
    return r;
  }
  for (const [k, s] of [
    ['detect (onnx)', ds],
    ['landmarks (onnx)', ls],
    ['embed (onnx)', es],
  ] as const) {
    const run = s.run.bind(s) as (f: InferenceSession.FeedsType) => Promise<InferenceSession.ReturnType>;
    (s as { run: typeof run }).run = (f) => timed(k, () => run(f));
  }
  const det = new UltraFaceDetector(ds),
    lm = new Landmarker(ls),
    emb = new Embedder(es);
  return async (b: Buffer) => {
    for (const k in acc) acc[k] = { w: 0, c: 0 };
    const w0 = performance.now(),
      c0 = cpu();
    const img = await timed('decode', () => decode(b, DEFAULT_DECODE_OPTIONS));
    const dets = await timed('detect', () => det.detect(img, {}));
    for (const d of dets) {
      const pts = await timed('landmarks', async () => toFivePoints(await lm.landmarks68(img, d.box, 2)));
      const al = await timed('warp', () => align(img, pts));
      await timed('quality', () => faceQuality(d.box, pts, d.score, al.pixels, img.scale));
      await timed('embed', () => emb.embed(al));
    }
    acc['total'] = { w: performance.now() - w0, c: cpu() - c0 };
    return { ...acc };
  };
}

// Parts of decode and detect that are not their own stage: the header read and the detector's resize.
const parts = async (b: Buffer) => {
  const w = performance.now(),
    c0 = cpu();
  await sharp(b).metadata();
  const meta = { w: performance.now() - w, c: cpu() - c0 };
  const img = await decode(b, DEFAULT_DECODE_OPTIONS);
  const w1 = performance.now(),
    c1 = cpu();
  await resizeRgb(img, 320, 240);
  return {
    'decode: header (metadata)': meta,
    'detect: resize to 320x240': { w: performance.now() - w1, c: cpu() - c1 },
  };
};

const configs = {
  old: JSON.parse(process.env['CPU_OLD'] ?? '{"flushTinyWeights":false}'),
  new: JSON.parse(process.env['CPU_NEW'] ?? '{}'),
};
const runs = { old: await pipeline(configs.old), new: await pipeline(configs.new) };
const rows: Record<string, Record<string, { w: number[]; c: number[] }>> = { old: {}, new: {}, parts: {} };
for (let r = 0; r <= ROUNDS; r++) {
  for (const [i, b] of probes.entries()) {
    for (const k of (r + i) % 2 ? (['new', 'old'] as const) : (['old', 'new'] as const)) {
      const t = await runs[k](b);
      if (r === 0) continue; // the first round warms both
      for (const [s, v] of Object.entries(t)) {
        const x = (rows[k]![s] ??= { w: [], c: [] });
        x.w.push(v.w);
        x.c.push(v.c);
      }
    }
    if (r === 0) continue;
    for (const [s, v] of Object.entries(await parts(b))) {
      const x = (rows['parts']![s] ??= { w: [], c: [] });
      x.w.push(v.w);
      x.c.push(v.c);
    }
  }
}
const stat = (v: number[]) => ({
  p50: median(v),
  p99: percentile(v, 99),
  mean: v.reduce((a, b) => a + b, 0) / v.length,
});
const out = Object.fromEntries(
  Object.entries(rows).map(([k, r]) => [
    k,
    Object.fromEntries(Object.entries(r).map(([s, v]) => [s, { wall: stat(v.w), cpu: stat(v.c) }])),
  ]),
);
for (const [k, r] of Object.entries(out)) {
  process.stderr.write(
    `${k} ${k === 'parts' ? '' : JSON.stringify(configs[k as 'old' | 'new'])}: stage, wall p50 / p99, CPU p50 / p99 / mean ms\n`,
  );
  for (const [s, v] of Object.entries(r))
    process.stderr.write(
      `  ${s.padEnd(26)} ${[v.wall.p50, v.wall.p99, v.cpu.p50, v.cpu.p99, v.cpu.mean].map((x) => x.toFixed(2).padStart(7)).join(' ')}\n`,
    );
}
process.stdout.write(
  JSON.stringify({
    configs,
    photos: probes.length,
    rounds: ROUNDS,
    threads: readdirSync('/proc/self/task').length,
    stages: out,
  }) + '\n',
);

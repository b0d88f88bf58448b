// Veil's engine: per-stage latency on one core, then throughput with 1 and 2 worker threads.
// Run by bench/run.ts in its own process so peak RSS is this pipeline's alone.
import { FaceEngine, type StageTimings } from '../src/face/engine.js';
import { EnginePool } from '../src/face/engine.pool.js';
import { benchImages } from './face.images.js';
import { median, peakRssMb, percentile } from './stats.js';

const images = benchImages();
const t0 = performance.now();
const engine = await FaceEngine.create();
const loadMs = performance.now() - t0;

// Warm up the sessions (first inference allocates).
for (const im of images.slice(0, 5)) await engine.analyze(im.bytes);

const stages: Record<keyof StageTimings | 'total', number[]> = {
  decode: [],
  detect: [],
  align: [],
  embed: [],
  total: [],
};
let faces = 0;
for (let round = 0; round < 3; round++) {
  for (const im of images) {
    const t: StageTimings = { decode: 0, detect: 0, align: 0, embed: 0 };
    const s = performance.now();
    const r = await engine.analyze(im.bytes, t);
    stages.total.push(performance.now() - s);
    for (const k of ['decode', 'detect', 'align', 'embed'] as const)
      stages[k].push(t[k] / Math.max(1, r.faces.length > 0 && (k === 'align' || k === 'embed') ? r.faces.length : 1));
    faces += r.faces.length;
  }
}

// Issue 14's second landmark pass, priced against the pipeline before it (one pass) on the same
// images in the same process, interleaved image by image so drift on a shared machine hits both alike.
const onePass = await FaceEngine.create({ landmarkPasses: 1 });
for (const im of images.slice(0, 5)) await onePass.analyze(im.bytes);
const perImage = { onePass: [] as number[], twoPasses: [] as number[] };
for (let round = 0; round < 5; round++) {
  for (const [i, im] of images.entries()) {
    const order = (round + i) % 2 ? [engine, onePass] : [onePass, engine];
    for (const e of order) {
      const s = performance.now();
      await e.analyze(im.bytes);
      (e === onePass ? perImage.onePass : perImage.twoPasses).push(performance.now() - s);
    }
  }
}
const landmarkPasses = {
  onePassMedianMs: median(perImage.onePass),
  twoPassesMedianMs: median(perImage.twoPasses),
  ratio: median(perImage.twoPasses) / median(perImage.onePass),
  onePassP99Ms: percentile(perImage.onePass, 99),
  twoPassesP99Ms: percentile(perImage.twoPasses, 99),
};

async function throughput(workers: number): Promise<number> {
  const pool = await EnginePool.create({ size: workers, maxQueue: 10_000 });
  await Promise.all(images.slice(0, 4).map((im) => pool.analyze(im.bytes)));
  const n = images.length * 3;
  const s = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => pool.analyze(images[i % images.length]!.bytes)));
  const ips = n / ((performance.now() - s) / 1000);
  await pool.close();
  return ips;
}

const ips1 = await throughput(1);
const ips2 = await throughput(2);
process.stdout.write(
  JSON.stringify({
    pipeline: 'veil (fr_detect + fr_landmark + fr_feature, onnxruntime-node)',
    images: images.length,
    facesPerImage: faces / (images.length * 3),
    modelLoadMs: loadMs,
    medianMs: Object.fromEntries(Object.entries(stages).map(([k, v]) => [k, median(v)])),
    p99TotalMs: percentile(stages.total, 99),
    landmarkPasses,
    imagesPerSecond: { workers1: ips1, workers2: ips2 },
    peakRssMb: peakRssMb(),
  }) + '\n',
);

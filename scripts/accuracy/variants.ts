// Embedding variants on lfw-dev, chosen on folds 7-8 (lfw-dev's first two folds) and confirmed on folds
// 9-10: which five points, the landmark passes, the template's scale and position (crop margins), the
// warp's interpolation, the similarity fit, pixel conventions, the crop's lighting and colour. Never run by `npm test`; docs/accuracy.md
// holds the tables it printed. Three steps, each cached under ACC_CACHE (default /tmp/acc-cache):
//   node --import tsx scripts/accuracy/variants.ts points            # detect + both landmark passes, once
//   node --import tsx scripts/accuracy/variants.ts embed base,s0.95   # warp + embed every photo per variant
//   node --import tsx scripts/accuracy/variants.ts table base,s0.95   # the table (and per-variant warp cost)
//   node --import tsx scripts/accuracy/variants.ts drift s0.95        # each photo's template against base's
// Each variant's embeddings are saved as <cache>/<variant>.{json,bin}: `LFW_CACHE=<cache>/<variant>`
// feeds them to `npm run accuracy`'s lfw-dev report.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode, type RgbImage } from '../../src/face/image.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession, ort } from '../../src/face/models.js';
import { DEFAULT_DETECTOR_OPTIONS, UltraFaceDetector } from '../../src/face/detector.js';
import { Landmarker, type FivePoints } from '../../src/face/landmarks.js';
import { ARCFACE_TEMPLATE, ALIGNED_SIZE, cosine, l2normalize } from '../../src/face/embedder.js';
import {
  invertAffine,
  similarityTransform,
  warpCrop,
  type Affine,
  type Box,
  type Point,
} from '../../src/face/geometry.js';
import { foldSummary, loadEmbeddings, loadLfwDev, saveEmbeddings } from './lfw.js';
import { engineFingerprint } from '../../support/engine-fingerprint.js';
import {
  eyesMouthScaleTransform,
  eyesMouthTransform,
  warpAntialiased,
  warpBicubic,
  warpBicubicAntialiased,
  warpBilinearFloat,
  weightedSimilarity,
} from './variant-warps.js';

const CACHE = process.env.ACC_CACHE ?? '/tmp/acc-cache';
mkdirSync(CACHE, { recursive: true });
const lfw = loadLfwDev();
const photos = [...new Set(lfw.folds.flat().flatMap((p) => [p.a, p.b]))];

const mean = (ps: Point[]): Point => ({
  x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
  y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
});
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const mouth = (p: readonly Point[]): [Point, Point] => [mean([p[48]!, p[60]!]), mean([p[54]!, p[64]!])];
const FIVES = {
  lids: (p: readonly Point[]): FivePoints => [
    mean([37, 38, 40, 41].map((i) => p[i]!)),
    mean([43, 44, 46, 47].map((i) => p[i]!)),
    p[30]!,
    ...mouth(p),
  ],
  eye6: (p: readonly Point[]): FivePoints => [
    mean(range(36, 41).map((i) => p[i]!)),
    mean(range(42, 47).map((i) => p[i]!)),
    p[30]!,
    ...mouth(p),
  ],
};

type Warp = (src: RgbImage, m: Affine, w: number, h: number) => ArrayLike<number>;
interface Variant {
  /** Which landmark pass's 68 points: the first, the second (shipped), or their average. */
  pass: 1 | 2 | 'avg';
  five: keyof typeof FIVES;
  /** Template scaled about the crop centre (> 1: the face larger in the crop, less margin) and shifted (px, + is down). */
  scale: number;
  dy: number;
  fit: (from: readonly Point[], to: readonly Point[]) => Affine;
  warp: Warp;
  /** Added to the five points before the fit (-0.5: pixel-centre coordinates to pixel-index ones). */
  offset: number;
  /** Pixel value v -> (v - mean) / std. */
  norm: readonly [number, number];
  /** Round the warped pixels to bytes, as the engine does (false: the embedder gets the warp's floats). */
  bytes: boolean;
  /** Flip augmentation: the crop only, its mirror only, or the sum of both embeddings (two inferences). */
  flip: 'none' | 'mirror' | 'sum';
  /** Photometric normalisation of the crop before the embedder (see `toned`). */
  tone: Tone;
}
const SHIPPED: Variant = {
  pass: 2,
  five: 'eye6',
  scale: 1,
  dy: 0,
  fit: similarityTransform,
  warp: warpCrop,
  offset: 0,
  norm: [127, 128],
  bytes: true,
  flip: 'none',
  tone: 'none',
};
const VARIANTS: Record<string, Partial<Variant>> = {
  base: {},
  // The first round (docs/accuracy.md, first table): one pass or two, eyelid or 6-point eye centres, flip.
  p1lids: { pass: 1, five: 'lids' },
  p1lidsmirror: { pass: 1, five: 'lids', flip: 'mirror' },
  p1lidsflip: { pass: 1, five: 'lids', flip: 'sum' },
  p1: { pass: 1 },
  p2lids: { five: 'lids' },
  avg12: { pass: 'avg' },
  's0.95': { scale: 0.95 },
  's1.05': { scale: 1.05 },
  up2: { dy: -2 },
  down2: { dy: 2 },
  bicubic: { warp: warpBicubic },
  aa: { warp: warpAntialiased },
  bicubicaa: { warp: warpBicubicAntialiased },
  nonose: { fit: (f, t) => similarityTransform([f[0]!, f[1]!, f[3]!, f[4]!], [t[0]!, t[1]!, t[3]!, t[4]!]) },
  weighted: { fit: (f, t) => weightedSimilarity(f, t, [2, 2, 0.5, 1, 1]) },
  eyesmouth: { fit: eyesMouthTransform },
  eyesmouthscale: { fit: eyesMouthScaleTransform },
  halfpx: { offset: -0.5 },
  float: { warp: warpBilinearFloat, bytes: false },
  norm1275: { norm: [127.5, 127.5] },
  gray: { tone: 'gray' },
  lum: { tone: 'lum' },
  chan: { tone: 'chan' },
};
/**
 * Lighting and colour normalisations of the crop (third round): grey (luminance in every channel),
 * `lum` (one gain and offset for all channels, so the crop's luminance has mean 127 and standard
 * deviation 60: contrast and exposure, colours kept) and `chan` (the same per channel: also a grey-world
 * white balance). LFW's news photos vary in lighting and colour cast more than in pose.
 */
type Tone = 'none' | 'gray' | 'lum' | 'chan';
function toned(tone: Tone, px: ArrayLike<number>): ArrayLike<number> {
  if (tone === 'none') return px;
  const n = px.length / 3;
  const out = new Float32Array(px.length);
  const stats = (get: (i: number) => number) => {
    let s = 0,
      s2 = 0;
    for (let i = 0; i < n; i++) {
      const x = get(i);
      s += x;
      s2 += x * x;
    }
    const m = s / n;
    return [m, Math.sqrt(Math.max(1e-6, s2 / n - m * m))] as const;
  };
  const lum = (i: number) => 0.299 * px[i * 3]! + 0.587 * px[i * 3 + 1]! + 0.114 * px[i * 3 + 2]!;
  if (tone === 'gray') {
    for (let i = 0; i < n; i++) out[i * 3] = out[i * 3 + 1] = out[i * 3 + 2] = lum(i);
    return out;
  }
  for (let c = 0; c < 3; c++) {
    const [m, sd] = tone === 'lum' ? stats(lum) : stats((i) => px[i * 3 + c]!);
    for (let i = 0; i < n; i++) out[i * 3 + c] = (px[i * 3 + c]! - m) * (60 / sd) + 127;
  }
  return out;
}

const variant = (name: string): Variant => {
  const v = VARIANTS[name];
  if (!v) throw new Error(`unknown variant ${name}: one of ${Object.keys(VARIANTS).join(', ')}`);
  return { ...SHIPPED, ...v };
};

const so = { intraOpThreads: 1 };
interface Found {
  box: Box;
  p1: Point[];
  p2: Point[];
}
const pointsFile = join(CACHE, 'points.json');

async function points(): Promise<void> {
  const [ds, ls] = await Promise.all([
    loadSession(DEFAULT_MODELS_DIR, MODELS.detector, so),
    loadSession(DEFAULT_MODELS_DIR, MODELS.landmarks, so),
  ]);
  const detector = new UltraFaceDetector(ds, DEFAULT_DETECTOR_OPTIONS);
  const landmarker = new Landmarker(ls);
  const out: Record<string, Found> = {};
  const t0 = performance.now();
  for (const [n, f] of photos.entries()) {
    const img = await decode(readFileSync(join(lfw.root, 'images', f)));
    let dets = await detector.detect(img);
    if (!dets.length) dets = await detector.detectHarder(img);
    if (!dets.length) continue;
    // The face nearest the centre, as LFW's photos are centred on their person (as the report does).
    const c = { x: img.width / 2, y: img.height / 2 };
    const dist = (b: Box) => Math.hypot(b.x + b.width / 2 - c.x, b.y + b.height / 2 - c.y);
    const d = [...dets].sort((a, b) => dist(a.box) - dist(b.box))[0]!;
    const round = (ps: Point[]) => ps.map((p) => ({ x: +p.x.toFixed(4), y: +p.y.toFixed(4) }));
    out[f] = {
      box: d.box,
      p1: round(await landmarker.landmarks68(img, d.box, 1)),
      p2: round(await landmarker.landmarks68(img, d.box, 2)),
    };
    if (n % 250 === 0)
      process.stderr.write(`points ${n}/${photos.length} ${((performance.now() - t0) / 1e3).toFixed(0)}s\n`);
  }
  writeFileSync(pointsFile, JSON.stringify(out));
  console.log(`${Object.keys(out).length} of ${photos.length} photos with a face -> ${pointsFile}`);
}

function fivePoints(v: Variant, f: Found): FivePoints {
  const pick = FIVES[v.five];
  const five =
    v.pass === 1
      ? pick(f.p1)
      : v.pass === 2
        ? pick(f.p2)
        : (pick(f.p1).map((p, i) => mean([p, pick(f.p2)[i]!])) as unknown as FivePoints);
  return five.map((p) => ({ x: p.x + v.offset, y: p.y + v.offset })) as unknown as FivePoints;
}

function template(v: Variant): Point[] {
  const c = ALIGNED_SIZE / 2;
  return ARCFACE_TEMPLATE.map((q) => ({ x: c + (q.x - c) * v.scale, y: c + (q.y - c) * v.scale + v.dy }));
}

async function embed(names: string[]): Promise<void> {
  const es = await loadSession(DEFAULT_MODELS_DIR, MODELS.embedder, so);
  const found = JSON.parse(readFileSync(pointsFile, 'utf8')) as Record<string, Found>;
  const plane = ALIGNED_SIZE * ALIGNED_SIZE;
  for (const name of names) {
    // A cache made by other engine code (support/engine-fingerprint.ts) is made again, not reported.
    if (
      existsSync(join(CACHE, `${name}.json`)) &&
      loadEmbeddings(join(CACHE, name), engineFingerprint(`variant ${name}`))
    ) {
      console.log(`${name}: cached`);
      continue;
    }
    const v = variant(name);
    const tpl = template(v);
    const emb = new Map<string, Float32Array>();
    let warpMs = 0;
    const t0 = performance.now();
    for (const [n, f] of Object.keys(found).entries()) {
      const img = await decode(readFileSync(join(lfw.root, 'images', f)));
      const t = performance.now();
      const px = toned(
        v.tone,
        v.warp(img, invertAffine(v.fit(fivePoints(v, found[f]!), tpl)), ALIGNED_SIZE, ALIGNED_SIZE),
      );
      warpMs += performance.now() - t;
      const [mu, sd] = v.norm;
      // Bytes, as the engine feeds the embedder, unless the variant keeps the warp's floats.
      const q = v.bytes ? (x: number) => Math.max(0, Math.min(255, Math.round(x))) : (x: number) => x;
      const run = async (mirror: boolean) => {
        const input = new Float32Array(3 * plane);
        for (let i = 0; i < plane; i++) {
          const x = i % ALIGNED_SIZE;
          const j = mirror ? i - x + (ALIGNED_SIZE - 1 - x) : i;
          input[i] = (q(px[j * 3 + 2]!) - mu) / sd; // B
          input[plane + i] = (q(px[j * 3 + 1]!) - mu) / sd; // G
          input[2 * plane + i] = (q(px[j * 3]!) - mu) / sd; // R
        }
        const o = await es.run({ input: new ort.Tensor('float32', input, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]) });
        return l2normalize(o['output']!.data as Float32Array);
      };
      if (v.flip === 'sum') {
        const [a, b] = [await run(false), await run(true)];
        emb.set(f, l2normalize(a.map((x, i) => x + b[i]!)));
      } else emb.set(f, await run(v.flip === 'mirror'));
      if (n % 500 === 0) process.stderr.write(`${name} ${n} ${((performance.now() - t0) / 1e3).toFixed(0)}s\n`);
    }
    saveEmbeddings(join(CACHE, name), emb, engineFingerprint(`variant ${name}`));
    writeFileSync(join(CACHE, `${name}.cost.json`), JSON.stringify({ warpMs: warpMs / emb.size, n: emb.size }));
    console.log(`${name}: ${emb.size} embeddings, warp ${(warpMs / emb.size).toFixed(2)} ms/image`);
  }
}

/**
 * The per-image cost of each variant's alignment (five points, fit, warp) against the engine's whole
 * analysis of the same photo, interleaved photo by photo over rounds so that load drift hits all alike.
 * Run under the bench lock: `flock /tmp/veil-bench.lock node --import tsx scripts/accuracy/variants.ts cost ...`.
 */
async function cost(names: string[]): Promise<void> {
  const { FaceEngine } = await import('../../src/face/engine.js');
  const engine = await FaceEngine.create();
  const found = JSON.parse(readFileSync(pointsFile, 'utf8')) as Record<string, Found>;
  const files = Object.keys(found).filter((_, i) => i % 10 === 0);
  const bytes = files.map((f) => readFileSync(join(lfw.root, 'images', f)));
  const imgs = await Promise.all(bytes.map((b) => decode(b)));
  const ms: Record<string, number[]> = { engine: [] };
  const cpu: Record<string, number> = { engine: 0 };
  for (const n of names) {
    ms[n] = [];
    cpu[n] = 0;
  }
  const time = async (key: string, run: () => unknown) => {
    const c = process.cpuUsage();
    const t = performance.now();
    await run();
    ms[key]!.push(performance.now() - t);
    const d = process.cpuUsage(c);
    cpu[key]! += (d.user + d.system) / 1e3;
  };
  for (const im of bytes.slice(0, 5)) await engine.analyze(im);
  for (let round = 0; round < 3; round++)
    for (const [i, f] of files.entries()) {
      await time('engine', () => engine.analyze(bytes[i]!));
      for (const n of names) {
        const v = variant(n);
        const tpl = template(v);
        await time(n, () =>
          v.warp(imgs[i]!, invertAffine(v.fit(fivePoints(v, found[f]!), tpl)), ALIGNED_SIZE, ALIGNED_SIZE),
        );
      }
    }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const base = med(ms[names[0]!]!);
  const eng = med(ms.engine!);
  console.log(
    `${files.length} photos x 3 rounds; engine analyze median ${eng.toFixed(2)} ms/image, CPU ${(cpu.engine! / ms.engine!.length).toFixed(2)} ms`,
  );
  console.log(
    `| variant | alignment median ms/image | CPU ms/image (mean) | change per image vs ${names[0]} (of the engine's median) |`,
  );
  console.log('|---|---|---|---|');
  for (const n of names) {
    const m = med(ms[n]!);
    console.log(
      `| ${n} | ${m.toFixed(3)} | ${(cpu[n]! / ms[n]!.length).toFixed(3)} | ${(((m - base) / eng) * 100).toFixed(1)}% |`,
    );
  }
}

/** Each photo's template under a variant against its template under `base`: what enrolled templates keep. */
function drift(names: string[]): void {
  const base = loadEmbeddings(join(CACHE, 'base'));
  console.log('| variant | photos | median cosine to base | 10th pct | 1st pct | lowest |');
  console.log('|---|---|---|---|---|---|');
  for (const name of names) {
    const emb = loadEmbeddings(join(CACHE, name));
    const s = [...emb].filter(([f]) => base.has(f)).map(([f, e]) => cosine(e, base.get(f)!));
    s.sort((a, b) => a - b);
    const q = (p: number) => s[Math.min(s.length - 1, Math.floor(p * s.length))]!.toFixed(3);
    console.log(`| ${name} | ${s.length} | ${q(0.5)} | ${q(0.1)} | ${q(0.01)} | ${s[0]!.toFixed(3)} |`);
  }
}

/** TAR at FAR 1e-3 and 1e-4 over every pair of lfw-dev's photos (2,950 same-person, 4.9M different-person). */
function allPairsTar(emb: Map<string, Float32Array>, folds = [0, 1, 2, 3]): [number, number] {
  const names = lfw.images.filter((f) => emb.has(f) && folds.includes(lfw.foldOf.get(f.split('/')[0]!) ?? -1));
  const id = names.map((f) => f.split('/')[0]!);
  const vs = names.map((f) => emb.get(f)!);
  const gen: number[] = [];
  const imp = new Float32Array((names.length * (names.length - 1)) / 2);
  let k = 0;
  for (let i = 0; i < vs.length; i++)
    for (let j = i + 1; j < vs.length; j++) {
      const a = vs[i]!,
        b = vs[j]!;
      let d = 0;
      for (let x = 0; x < a.length; x++) d += a[x]! * b[x]!;
      if (id[i] === id[j]) gen.push(d);
      else imp[k++] = d;
    }
  const sorted = imp.subarray(0, k).sort().reverse();
  const at = (far: number) => gen.filter((g) => g > sorted[Math.floor(far * k)]!).length / gen.length;
  return [at(1e-3), at(1e-4)];
}

type Scored = { s: number; same: boolean }[];
function table(names: string[]): void {
  console.log(
    '| variant | folds 7-8 (chosen on) | errors | folds 9-10 (confirmed on) | errors | 4 folds | errors (per fold) | TAR @ FAR 1e-3 | TAR @ FAR 1e-3 / 1e-4, all pairs | same, people of folds 7-8 | same, folds 9-10 | warp ms/image |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const name of names) {
    const emb = loadEmbeddings(join(CACHE, name));
    const cost = JSON.parse(readFileSync(join(CACHE, `${name}.cost.json`), 'utf8')) as { warpMs: number };
    const folds: Scored[] = lfw.folds.map((fold) =>
      fold.map((p) => {
        const a = emb.get(p.a),
          b = emb.get(p.b);
        return { s: a && b ? cosine(a, b) : -1, same: p.same };
      }),
    );
    const { dev, test, all, tar } = foldSummary(folds);
    const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
    const allTar = allPairsTar(emb);
    const devTar = allPairsTar(emb, [0, 1]);
    const testTar = allPairsTar(emb, [2, 3]);
    console.log(
      `| ${name} | ${pct(dev.mean)} | ${dev.errors} | ${pct(test.mean)} | ${test.errors} | ${pct(all.mean)} ± ${(all.std * 100).toFixed(2)} | ${all.errors} (${all.accuracies.map((a) => Math.round((1 - a) * 600)).join(', ')}) | ${pct(tar.tar)} | ${allTar.map(pct).join(' / ')} | ${devTar.map(pct).join(' / ')} | ${testTar.map(pct).join(' / ')} | ${cost.warpMs.toFixed(2)} |`,
    );
  }
}

const [cmd, list] = process.argv.slice(2);
const names = (list ?? 'base').split(',');
if (cmd === 'points') await points();
else if (cmd === 'embed') await embed(names);
else if (cmd === 'table') table(names);
else if (cmd === 'drift') drift(names);
else if (cmd === 'cost') await cost(names);
else
  throw new Error(
    'usage: variants.ts points | embed <variants> | table <variants> | drift <variants> | cost <variants>',
  );

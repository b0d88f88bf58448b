// Embedding variants on lfw-dev: which five points, a second landmark pass, flip, crop margin.
// Chosen on folds 7-8 (the first two folds of lfw-dev), confirmed on folds 9-10. Run:
//   node --import tsx scripts/accuracy/variants.ts [limit]
// Never run by `npm test`; docs/accuracy.md holds the table it printed.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { decode } from '../../src/face/image.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession, ort } from '../../src/face/models.js';
import { DEFAULT_DETECTOR_OPTIONS, UltraFaceDetector } from '../../src/face/detector.js';
import { Landmarker, landmarkSquare, type FivePoints } from '../../src/face/landmarks.js';
import { ARCFACE_TEMPLATE, ALIGNED_SIZE, Embedder, cosine, type AlignedFace } from '../../src/face/embedder.js';
import {
  applyAffine,
  composeAffine,
  invertAffine,
  similarityTransform,
  warpCrop,
  type Point,
} from '../../src/face/geometry.js';
import { crossFoldAccuracy, loadLfwDev, saveEmbeddings, tarAtFar } from './lfw.js';

const so = { intraOpThreads: 1 };
const [ds, ls, es] = await Promise.all([
  loadSession(DEFAULT_MODELS_DIR, MODELS.detector, so),
  loadSession(DEFAULT_MODELS_DIR, MODELS.landmarks, so),
  loadSession(DEFAULT_MODELS_DIR, MODELS.embedder, so),
]);
const detector = new UltraFaceDetector(ds, DEFAULT_DETECTOR_OPTIONS);
const landmarker = new Landmarker(ls);
const embedder = new Embedder(es);

const mean = (ps: Point[]): Point => ({
  x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
  y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
});
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
type Five = (p: readonly Point[]) => FivePoints;
const FIVES: Record<string, Five> = {
  lids: (p) => [
    mean([37, 38, 40, 41].map((i) => p[i]!)),
    mean([43, 44, 46, 47].map((i) => p[i]!)),
    p[30]!,
    mean([p[48]!, p[60]!]),
    mean([p[54]!, p[64]!]),
  ],
  eye6: (p) => [
    mean(range(36, 41).map((i) => p[i]!)),
    mean(range(42, 47).map((i) => p[i]!)),
    p[30]!,
    mean([p[48]!, p[60]!]),
    mean([p[54]!, p[64]!]),
  ],
  eye6outer: (p) => [
    mean(range(36, 41).map((i) => p[i]!)),
    mean(range(42, 47).map((i) => p[i]!)),
    p[30]!,
    p[48]!,
    p[54]!,
  ],
};

function alignWith(img: { width: number; height: number; data: Uint8Array }, pts: FivePoints, scale = 1): AlignedFace {
  const c = { x: ALIGNED_SIZE / 2, y: ALIGNED_SIZE / 2 };
  const tpl = ARCFACE_TEMPLATE.map((q) => ({ x: c.x + (q.x - c.x) * scale, y: c.y + (q.y - c.y) * scale }));
  const toCrop = similarityTransform(pts, tpl);
  const data = warpCrop(img, invertAffine(toCrop), ALIGNED_SIZE, ALIGNED_SIZE);
  return { pixels: { width: ALIGNED_SIZE, height: ALIGNED_SIZE, data }, transform: toCrop };
}

function mirror(a: AlignedFace): AlignedFace {
  const s = ALIGNED_SIZE;
  const src = a.pixels.data;
  const out = new Uint8Array(src.length);
  for (let y = 0; y < s; y++)
    for (let x = 0; x < s; x++)
      for (let c = 0; c < 3; c++) out[(y * s + x) * 3 + c] = src[(y * s + (s - 1 - x)) * 3 + c]!;
  return { pixels: { width: s, height: s, data: out }, transform: a.transform };
}

/** The landmark square in aligned-crop coordinates, averaged over the first pass (fixed after warm-up). */
const sqStats = { n: 0, cx: 0, cy: 0, side: 0 };

async function secondPass(
  img: { width: number; height: number; data: Uint8Array },
  pts1: FivePoints,
): Promise<Point[]> {
  // Aligned-crop continuous coordinates -> photo continuous coordinates.
  const back = invertAffine(similarityTransform(pts1, ARCFACE_TEMPLATE));
  // Measured on a first run (printed below): where the first pass's square lands in the aligned crop.
  const side = 114;
  const x0 = 57.6 - side / 2;
  const y0 = 63.7 - side / 2;
  const k = side / 64;
  // 64-grid continuous coordinate g -> aligned (x0 + k g) -> photo.
  const g2p = composeAffine(back, [k, 0, x0, 0, k, y0]);
  // Sampling: grid pixel i has its centre at g = i + 0.5; the photo's pixel j has its centre at j + 0.5.
  const sample = composeAffine([1, 0, -0.5, 0, 1, -0.5], composeAffine(g2p, [1, 0, 0.5, 0, 1, 0.5]));
  const rgb = warpCrop(img, sample, 64, 64);
  const input = new Float32Array(64 * 64);
  for (let i = 0; i < input.length; i++)
    input[i] = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 256;
  const o = await ls.run({ input: new ort.Tensor('float32', input, [1, 1, 64, 64]) });
  const v = o['output']!.data as Float32Array;
  const out: Point[] = [];
  for (let i = 0; i < 68; i++) out.push(applyAffine(g2p, { x: v[i * 2]! * 64, y: v[i * 2 + 1]! * 64 }));
  return out;
}

const lfw = loadLfwDev();
if (process.argv[2] === 'merge') merge(process.argv.slice(3));
else await embedAll(process.argv[2] ?? '.tmp/scores.json');

async function embedAll(out: string): Promise<void> {
  // FOLDS=0,1 embeds only the photos of folds 7-8 (lfw-dev's first two), so two processes can share the work;
  // `variants.ts merge a.json b.json` then scores all four folds.
  const only = process.env.FOLDS?.split(',').map(Number);
  const wanted = [
    ...new Set(
      lfw.folds
        .filter((_, i) => !only || only.includes(i))
        .flat()
        .flatMap((p) => [p.a, p.b]),
    ),
  ];
  const VARIANTS = (process.env.VARIANTS ?? 'lids,eye6,p2lids,p2eye6').split(',');
  const emb = new Map<string, Map<string, Float32Array>>();
  const t0 = performance.now();
  const ms = { detect: 0, lm: 0, lm2: 0, embed: 0 };
  for (const [n, f] of wanted.entries()) {
    const img = await decode(readFileSync(join(lfw.root, 'images', f)));
    let t = performance.now();
    let dets = await detector.detect(img);
    if (!dets.length) dets = await detector.detectHarder(img);
    ms.detect += performance.now() - t;
    if (!dets.length) continue;
    const cx = img.width / 2,
      cy = img.height / 2;
    const d = [...dets].sort(
      (a, b) =>
        Math.hypot(a.box.x + a.box.width / 2 - cx, a.box.y + a.box.height / 2 - cy) -
        Math.hypot(b.box.x + b.box.width / 2 - cx, b.box.y + b.box.height / 2 - cy),
    )[0]!;
    t = performance.now();
    const p68 = await landmarker.landmarks68(img, d.box, 1);
    ms.lm += performance.now() - t;
    const out = new Map<string, Float32Array>();
    const put = async (name: string, a: AlignedFace) => {
      const s = performance.now();
      out.set(name, await embedder.embed(a));
      if (name === 'lids') out.set(name + '+flip', await embedder.embed(mirror(a)));
      ms.embed += performance.now() - s;
    };
    const base = FIVES.lids!(p68);
    const sq = landmarkSquare(d.box);
    const tc = similarityTransform(base, ARCFACE_TEMPLATE);
    const c = applyAffine(tc, { x: sq.x + sq.width / 2, y: sq.y + sq.height / 2 });
    sqStats.n++;
    sqStats.cx += c.x;
    sqStats.cy += c.y;
    sqStats.side += sq.width * Math.hypot(tc[0], tc[3]);
    for (const v of VARIANTS) {
      const [five, m] = v.split('/m');
      if (five!.startsWith('p2')) continue;
      await put(v, alignWith(img, FIVES[five!]!(p68), m ? Number(m) : 1));
    }
    if (VARIANTS.some((v) => v.startsWith('p2'))) {
      t = performance.now();
      const p2 = await secondPass(img, base);
      ms.lm2 += performance.now() - t;
      for (const v of VARIANTS) if (v.startsWith('p2')) await put(v, alignWith(img, FIVES[v.slice(2)]!(p2)));
    }
    emb.set(f, out);
    if (n % 100 === 0) process.stderr.write(`${n}/${wanted.length} ${((performance.now() - t0) / 1000).toFixed(0)}s\n`);
  }
  const N = wanted.length;
  console.log(
    `images ${N}, no face ${N - emb.size}; median-free means per image: detect ${(ms.detect / N).toFixed(1)} ms, 68 landmarks ${(ms.lm / N).toFixed(1)} ms, second pass ${(ms.lm2 / N).toFixed(1)} ms, embed ${(ms.embed / N / (VARIANTS.length + 2)).toFixed(1)} ms`,
  );
  console.log(
    `canonical landmark square in the aligned crop: centre (${(sqStats.cx / sqStats.n).toFixed(2)}, ${(sqStats.cy / sqStats.n).toFixed(2)}), side ${(sqStats.side / sqStats.n).toFixed(2)}`,
  );

  const add = (a: Float32Array, b: Float32Array) => a.map((x, i) => x + b[i]!);
  const names = VARIANTS.flatMap((v) => (v === 'lids' ? [v, v + '+flip', v + '+sum'] : [v]));
  const get = (f: string, v: string): Float32Array | undefined => {
    const e = emb.get(f);
    if (!e) return undefined;
    if (v.endsWith('+sum')) return add(e.get(v.slice(0, -4))!, e.get(v.slice(0, -4) + '+flip')!);
    return e.get(v);
  };
  type Scores = Record<string, Record<number, { s: number; same: boolean }[]>>;
  const scores: Scores = {};
  for (const v of names) {
    scores[v] = {};
    lfw.folds.forEach((fold, i) => {
      if (only && !only.includes(i)) return;
      scores[v]![i] = fold.map((p) => {
        const a = get(p.a, v),
          b = get(p.b, v);
        return { s: a && b ? cosine(a, b) : -1, same: p.same };
      });
    });
  }
  writeFileSync(out, JSON.stringify(scores));
  // Each variant's embeddings, so `LFW_CACHE=<out>.<variant> npm run accuracy` need not embed again.
  for (const v of names) saveEmbeddings(`${out}.${v}`, new Map([...emb.keys()].map((f) => [f, get(f, v)!])));
  console.log(`scores written to ${out}`);
}

/** Prints the table from the score files of the two halves. */
function merge(files: string[]): void {
  const parts = files.map(
    (f) => JSON.parse(readFileSync(f, 'utf8')) as Record<string, Record<number, { s: number; same: boolean }[]>>,
  );
  console.log(
    '| variant | folds 7-8 acc (chosen on) | errors | folds 9-10 acc (confirmed on) | errors | 4 folds acc | TAR@FAR1e-3 (4 folds) |',
  );
  console.log('|---|---|---|---|---|---|---|');
  for (const v of Object.keys(parts[0]!)) {
    const byFold: Record<number, { s: number; same: boolean }[]> = Object.assign({}, ...parts.map((p) => p[v] ?? {}));
    const scored = [0, 1, 2, 3].map((i) => byFold[i]!);
    const dev = crossFoldAccuracy(scored.slice(0, 2));
    const test = crossFoldAccuracy(scored.slice(2));
    const all = crossFoldAccuracy(scored);
    const flat = scored.flat();
    const tar = tarAtFar(
      flat.filter((x) => x.same).map((x) => x.s),
      flat.filter((x) => !x.same).map((x) => x.s),
      1e-3,
    );
    console.log(
      `| ${v} | ${(dev.mean * 100).toFixed(2)}% | ${dev.errors} | ${(test.mean * 100).toFixed(2)}% | ${test.errors} | ${(all.mean * 100).toFixed(2)}% ± ${(all.std * 100).toFixed(2)} | ${(tar.tar * 100).toFixed(2)}% |`,
    );
  }
}

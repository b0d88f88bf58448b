// How large must a calibration set be before `veil faces calibrate` may trust the impostor tail it fits?
// Fits the tail on random subsets of half the lfw-dev identities (as `veil faces calibrate` does: every
// cross-identity pair, 99.9th percentile) and measures the FPIR the open-set rule then gives on the other
// half's gallery. Reads the embeddings from LFW_CACHE (as written by `npm run accuracy`). Never run by `npm test`.
//   LFW_CACHE=<path> node --import tsx scripts/accuracy/calibration-size.ts [repeats]
import { fitImpostorTail, thresholdForFmr } from '../../src/gallery/open-set.js';
import { identityOf, loadEmbeddings, loadLfwDev } from './lfw.js';

const cache = process.env['LFW_CACHE'];
if (!cache) throw new Error('LFW_CACHE=<path> is needed (embeddings of lfw-dev)');
const repeats = Number(process.argv[2] ?? 20);
const lfw = loadLfwDev();
const emb = loadEmbeddings(cache);
const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const ids = [...new Set(lfw.images.map(identityOf))];
const half = new Set(ids.filter((_, i) => i % 2 === 0));
const A = lfw.images.filter((p) => half.has(identityOf(p)) && emb.has(p));
const B = lfw.images.filter((p) => !half.has(identityOf(p)) && emb.has(p));

// Half B: gallery = first photo of each person with several; non-mated probes = every photo of B against
// the gallery without its own person (as lfw-report's held-out check).
const byId = new Map<string, string[]>();
for (const p of B) byId.set(identityOf(p), [...(byId.get(identityOf(p)) ?? []), p]);
const gallery = [...byId].filter(([, ps]) => ps.length > 1).map(([id, ps]) => ({ id, e: emb.get(ps[0]!)! }));
const nonMated = B.filter((p) => !gallery.some((g) => emb.get(p) === g.e)).map((p) => {
  let best = -2;
  for (const g of gallery) if (g.id !== identityOf(p)) best = Math.max(best, dot(emb.get(p)!, g.e));
  return best;
});
const fpirAt = (t: number) => nonMated.filter((s) => s >= t).length / nonMated.length;

let seed = 12345;
const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
const peopleA = [...new Set(A.map(identityOf))];
const q = (xs: number[], f: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(f * xs.length))]!;
const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
console.log(
  `half B: gallery ${gallery.length}, ${nonMated.length} non-mated probes; target FPIR 1% (per-comparison ${(0.01 / gallery.length).toExponential(2)}); ${repeats} random subsets of half A per row\n`,
);
console.log(
  '| people (half A) | photos (median) | impostor pairs (median) | tail points (median) | observed FPIR: median | 10th pct | 90th pct | worst | subsets over 2% |',
);
console.log('|---|---|---|---|---|---|---|---|---|');
for (const people of [50, 100, 200, 300, 400, 600, peopleA.length]) {
  const rows: { photos: number; pairs: number; k: number; fpir: number }[] = [];
  for (let r = 0; r < (people === peopleA.length ? 1 : repeats); r++) {
    const pick = new Set([...peopleA].sort(() => rand() - 0.5).slice(0, people));
    const photos = A.filter((p) => pick.has(identityOf(p)));
    const imp: number[] = [];
    for (let i = 0; i < photos.length; i++)
      for (let j = i + 1; j < photos.length; j++)
        if (identityOf(photos[i]!) !== identityOf(photos[j]!))
          imp.push(dot(emb.get(photos[i]!)!, emb.get(photos[j]!)!));
    const tail = fitImpostorTail('lfw', imp);
    const t = Math.ceil(thresholdForFmr(tail, 0.01 / gallery.length) * 1e4) / 1e4;
    rows.push({ photos: photos.length, pairs: imp.length, k: Math.round(tail.zeta * imp.length), fpir: fpirAt(t) });
  }
  const f = rows.map((x) => x.fpir);
  console.log(
    `| ${people} | ${q(
      rows.map((x) => x.photos),
      0.5,
    )} | ${q(
      rows.map((x) => x.pairs),
      0.5,
    )} | ${q(
      rows.map((x) => x.k),
      0.5,
    )} | ${pct(q(f, 0.5))} | ${pct(q(f, 0.1))} | ${pct(q(f, 0.9))} | ${pct(Math.max(...f))} | ${f.filter((x) => x > 0.02).length}/${f.length} |`,
  );
}

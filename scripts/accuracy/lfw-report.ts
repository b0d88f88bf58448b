// The lfw-dev half of `npm run accuracy`: LFW verification over the 4 folds, TAR at FAR 1e-3, open-set
// identification (DIR at FPIR 1%) and the held-out check of the open-set rule. Prints markdown tables for
// docs/accuracy.md. Never run by `npm test`.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FaceEngine } from '../../src/face/engine.js';
import { fitImpostorTail, openSetThreshold, type ImpostorTail } from '../../src/gallery/open-set.js';
import { engineFingerprint } from '../../support/engine-fingerprint.js';
import { crossFoldAccuracy, identityOf, loadEmbeddings, loadLfwDev, saveEmbeddings, tarAtFar, LFW_DEV } from './lfw.js';

const pct = (x: number, d = 2) => `${(x * 100).toFixed(d)}%`;
const dot = (a: Float32Array, b: Float32Array) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Embeds every lfw-dev photo (the face nearest the centre, as LFW's photos are centred on their person). */
async function embedAll(
  engine: FaceEngine,
  images: readonly string[],
  cache?: string,
): Promise<Map<string, Float32Array>> {
  const fingerprint = engineFingerprint(engine.modelId);
  if (cache && existsSync(`${cache}.json`)) {
    const cached = loadEmbeddings(cache, fingerprint);
    if (cached) return cached;
    process.stderr.write(`${cache}: made by another model or engine code, embedding again\n`);
  }
  const out = new Map<string, Float32Array>();
  for (const [i, f] of images.entries()) {
    const r = await engine.analyze(readFileSync(join(LFW_DEV, 'images', f)));
    if (r.faces[0]) out.set(f, r.faces[0].embedding);
    if (i % 250 === 0) process.stderr.write(`lfw-dev ${i}/${images.length}\n`);
  }
  if (cache) saveEmbeddings(cache, out, fingerprint);
  return out;
}

/** Every cross-identity score among these photos (the impostor comparisons a tail is fitted on). */
function impostorScores(photos: readonly string[], emb: Map<string, Float32Array>): Float64Array {
  const e = photos.filter((p) => emb.has(p));
  const out: number[] = [];
  for (let i = 0; i < e.length; i++)
    for (let j = i + 1; j < e.length; j++)
      if (identityOf(e[i]!) !== identityOf(e[j]!)) out.push(dot(emb.get(e[i]!)!, emb.get(e[j]!)!));
  return Float64Array.from(out);
}

interface OpenSet {
  galleryPeople: number;
  /** Best score of each mated probe and whether its rank 1 is the right person. */
  mated: { best: number; right: boolean }[];
  /** Best score of each non-mated probe against the gallery without the probe's own person. */
  nonMated: number[];
}

/** Gallery: the first photo of each person with several; probes: their other photos (mated) and every photo (non-mated, own entry left out). */
function openSet(photos: readonly string[], emb: Map<string, Float32Array>, nonMatedAll: boolean): OpenSet {
  const byId = new Map<string, string[]>();
  for (const p of photos) if (emb.has(p)) byId.set(identityOf(p), [...(byId.get(identityOf(p)) ?? []), p]);
  const gallery = [...byId].filter(([, ps]) => ps.length > 1).map(([id, ps]) => ({ id, e: emb.get(ps[0]!)! }));
  const search = (probe: string) => {
    const e = emb.get(probe)!;
    let best = -2,
      bestId = '',
      bestOther = -2;
    for (const g of gallery) {
      const s = dot(e, g.e);
      if (s > best) {
        best = s;
        bestId = g.id;
      }
      if (g.id !== identityOf(probe) && s > bestOther) bestOther = s;
    }
    return { best, bestId, bestOther };
  };
  const mated: OpenSet['mated'] = [];
  const nonMated: number[] = [];
  for (const [id, ps] of byId) {
    ps.forEach((p, i) => {
      const r = search(p);
      if (ps.length > 1 && i > 0) mated.push({ best: r.best, right: r.bestId === id });
      if (ps.length === 1 || (nonMatedAll && i > 0)) nonMated.push(r.bestOther);
    });
  }
  return { galleryPeople: gallery.length, mated, nonMated };
}

const fpirAt = (o: OpenSet, t: number) => o.nonMated.filter((s) => s >= t).length / o.nonMated.length;
const dirAt = (o: OpenSet, t: number) => o.mated.filter((m) => m.right && m.best >= t).length / o.mated.length;
/** The threshold whose FPIR on these non-mated probes is at most `fpir`. */
const thresholdAtFpir = (o: OpenSet, fpir: number) =>
  [...o.nonMated].sort((a, b) => b - a)[Math.floor(fpir * o.nonMated.length)]! + 1e-9;

export async function lfwReport(engine: FaceEngine, opts: { cache?: string; minimum: number }): Promise<ImpostorTail> {
  const lfw = loadLfwDev();
  const emb = await embedAll(engine, lfw.images, opts.cache);
  console.log(`\n### lfw-dev (${lfw.images.length} photos, ${lfw.images.length - emb.size} without a face)\n`);

  // Verification, LFW's protocol.
  const scored = lfw.folds.map((fold) =>
    fold.map((p) => {
      const a = emb.get(p.a),
        b = emb.get(p.b);
      return { s: a && b ? dot(a, b) : -1, same: p.same };
    }),
  );
  const cv = crossFoldAccuracy(scored);
  const flat = scored.flat();
  const tarPairs = tarAtFar(
    flat.filter((x) => x.same).map((x) => x.s),
    flat.filter((x) => !x.same).map((x) => x.s),
    1e-3,
  );
  const allImp = impostorScores(lfw.images, emb);
  const genuineAll: number[] = [];
  const ids = [...new Set(lfw.images.map(identityOf))];
  for (const id of ids) {
    const ps = lfw.images.filter((p) => identityOf(p) === id && emb.has(p));
    for (let i = 0; i < ps.length; i++)
      for (let j = i + 1; j < ps.length; j++) genuineAll.push(dot(emb.get(ps[i]!)!, emb.get(ps[j]!)!));
  }
  const tarAll = tarAtFar(genuineAll, [...allImp], 1e-3);
  console.log(
    '| folds | accuracy per fold | mean ± std | errors | TAR @ FAR 1e-3 (pairs.txt) | TAR @ FAR 1e-3 (all pairs) |',
  );
  console.log('|---|---|---|---|---|---|');
  console.log(
    `| 7-10 | ${cv.accuracies.map((a) => pct(a)).join(', ')} | ${pct(cv.mean)} ± ${pct(cv.std)} | ${cv.errors} / ${flat.length} | ${pct(tarPairs.tar)} (t ${tarPairs.threshold.toFixed(3)}) | ${pct(tarAll.tar)} of ${genuineAll.length} at t ${tarAll.threshold.toFixed(3)} over ${allImp.length} impostor pairs |`,
  );

  // The shipped tail: every cross-identity comparison in lfw-dev.
  const tail = fitImpostorTail(engine.modelId, allImp);
  console.log(
    `\nimpostor tail (all lfw-dev): u ${tail.u.toFixed(4)}, zeta ${tail.zeta.toExponential(3)}, xi ${tail.xi.toFixed(4)}, sigma ${tail.sigma.toFixed(4)}, ${tail.comparisons} comparisons`,
  );

  // Open set on the whole of lfw-dev.
  const os = openSet(lfw.images, emb, false);
  const rule = openSetThreshold({ gallerySize: os.galleryPeople, fpir: 0.01, tail, minimum: opts.minimum });
  const t1 = thresholdAtFpir(os, 0.01);
  console.log(
    `\n| open set (gallery ${os.galleryPeople} people, ${os.mated.length} mated probes, ${os.nonMated.length} non-mated) | threshold | FPIR | DIR (rank 1) |`,
  );
  console.log('|---|---|---|---|');
  console.log(`| fixed 1:1 threshold 0.41 (before) | 0.41 | ${pct(fpirAt(os, 0.41))} | ${pct(dirAt(os, 0.41))} |`);
  console.log(`| FPIR 1% chosen on these probes | ${t1.toFixed(4)} | ${pct(fpirAt(os, t1))} | ${pct(dirAt(os, t1))} |`);
  console.log(
    `| open-set rule, FPIR 1%, N ${os.galleryPeople} | ${rule} | ${pct(fpirAt(os, rule))} | ${pct(dirAt(os, rule))} |`,
  );

  // Held out: fit on half the identities, measure on the other half.
  const half = new Set(ids.filter((_, i) => i % 2 === 0));
  const A = lfw.images.filter((p) => half.has(identityOf(p)));
  const B = lfw.images.filter((p) => !half.has(identityOf(p)));
  const osB = openSet(B, emb, true);
  const peopleA = [...new Set(A.map(identityOf))];
  console.log(
    `\n| tail fitted on (half A) | comparisons | rule threshold, FPIR 1%, N ${osB.galleryPeople} (half B) | predicted FPIR | observed FPIR on B (${osB.nonMated.length} non-mated probes) | DIR on B |`,
  );
  console.log('|---|---|---|---|---|---|');
  for (const people of [50, 100, 200, peopleA.length]) {
    const some = new Set(peopleA.slice(0, people));
    const imp = impostorScores(
      A.filter((p) => some.has(identityOf(p))),
      emb,
    );
    const fit = fitImpostorTail(engine.modelId, imp, Math.min(0.999, 1 - 40 / imp.length));
    for (const fpir of [0.01, 0.05]) {
      const t = openSetThreshold({ gallerySize: osB.galleryPeople, fpir, tail: fit, minimum: 0 });
      console.log(
        `| ${people} people | ${imp.length} | ${t} | ${pct(fpir)} | ${pct(fpirAt(osB, t))} | ${pct(dirAt(osB, t))} |`,
      );
    }
  }
  return tail;
}

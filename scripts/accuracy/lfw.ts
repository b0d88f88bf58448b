// The lfw-dev development set (../shared/datasets/lfw-dev) and LFW's standard protocol, for
// `npm run accuracy` and the embedding experiments. Never read by `npm test`.
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LFW_DEV = new URL('../../../shared/datasets/lfw-dev/', import.meta.url).pathname;

export interface Pair {
  readonly a: string;
  readonly b: string;
  readonly same: boolean;
}

export interface LfwDev {
  readonly root: string;
  /** Image paths relative to images/, e.g. `Adam_Scott/Adam_Scott_0001.jpg`, sorted. */
  readonly images: readonly string[];
  /** The folds of pairs.txt in order (LFW's View 2 folds 7-10 here). */
  readonly folds: readonly (readonly Pair[])[];
  /** The fold (0-based index into folds) each identity's pairs are in: LFW folds are disjoint in identities. */
  readonly foldOf: ReadonlyMap<string, number>;
}

export const identityOf = (image: string): string => image.split('/')[0]!;
const imagePath = (name: string, i: string) => `${name}/${name}_${i.padStart(4, '0')}.jpg`;

export function loadLfwDev(root = LFW_DEV): LfwDev {
  const lines = readFileSync(join(root, 'pairs.txt'), 'utf8').trim().split('\n');
  const [nFolds, perClass] = lines[0]!.split('\t').map(Number) as [number, number];
  const folds: Pair[][] = [];
  const foldOf = new Map<string, number>();
  let at = 1;
  for (let f = 0; f < nFolds; f++) {
    const fold: Pair[] = [];
    for (let k = 0; k < 2 * perClass; k++) {
      const p = lines[at++]!.trim().split('\t');
      const pair =
        p.length === 3
          ? { a: imagePath(p[0]!, p[1]!), b: imagePath(p[0]!, p[2]!), same: true }
          : { a: imagePath(p[0]!, p[1]!), b: imagePath(p[2]!, p[3]!), same: false };
      fold.push(pair);
      foldOf.set(identityOf(pair.a), f);
      foldOf.set(identityOf(pair.b), f);
    }
    folds.push(fold);
  }
  const images: string[] = [];
  const dir = join(root, 'images');
  for (const id of readdirSync(dir).sort())
    for (const f of readdirSync(join(dir, id)).sort()) images.push(`${id}/${f}`);
  return { root, images, folds, foldOf };
}

/** Accuracy of a threshold on labelled scores. */
function accuracyAt(scores: readonly { s: number; same: boolean }[], t: number): number {
  let ok = 0;
  for (const x of scores) if (x.s >= t === x.same) ok++;
  return ok / scores.length;
}

/** The threshold with the best accuracy on these scores (midpoint between neighbouring scores). */
export function bestThreshold(scores: readonly { s: number; same: boolean }[]): number {
  const sorted = [...scores].sort((a, b) => a.s - b.s);
  let best = -Infinity;
  let bestT = 0;
  // Threshold just above sorted[i-1]: everything from i on is "same".
  let correct = sorted.filter((x) => !x.same).length; // t below everything: all called same -> only same correct
  correct = sorted.filter((x) => x.same).length;
  for (let i = 0; i <= sorted.length; i++) {
    const t =
      i === 0
        ? sorted[0]!.s - 1e-6
        : i === sorted.length
          ? sorted[i - 1]!.s + 1e-6
          : (sorted[i - 1]!.s + sorted[i]!.s) / 2;
    if (correct > best) {
      best = correct;
      bestT = t;
    }
    if (i < sorted.length) correct += sorted[i]!.same ? -1 : 1;
  }
  return bestT;
}

export interface FoldResult {
  readonly accuracies: readonly number[];
  readonly thresholds: readonly number[];
  readonly mean: number;
  readonly std: number;
  /** Pairs misclassified over all folds. */
  readonly errors: number;
}

/** LFW's protocol: each fold scored with the threshold that is best on the other folds. */
export function crossFoldAccuracy(folds: readonly (readonly { s: number; same: boolean }[])[]): FoldResult {
  const accuracies: number[] = [];
  const thresholds: number[] = [];
  let errors = 0;
  folds.forEach((fold, i) => {
    const t = bestThreshold(folds.filter((_, j) => j !== i).flat());
    const a = accuracyAt(fold, t);
    accuracies.push(a);
    thresholds.push(t);
    errors += Math.round((1 - a) * fold.length);
  });
  const mean = accuracies.reduce((x, y) => x + y, 0) / accuracies.length;
  const std = Math.sqrt(accuracies.reduce((x, y) => x + (y - mean) ** 2, 0) / accuracies.length);
  return { accuracies, thresholds, mean, std, errors };
}

/** True-accept rate at the threshold whose false-accept rate on these impostors is at most `far`. */
export function tarAtFar(
  genuine: readonly number[],
  impostor: readonly number[],
  far: number,
): { tar: number; threshold: number } {
  const imp = [...impostor].sort((a, b) => b - a);
  const allowed = Math.floor(far * imp.length);
  // Strictly above the (allowed+1)-th highest impostor score.
  const threshold = allowed < imp.length ? imp[allowed]! + 1e-9 : -Infinity;
  return { tar: genuine.filter((g) => g >= threshold).length / genuine.length, threshold };
}

/**
 * The variant tables' numbers from scored pairs.txt folds: folds 7-8 (tuned on), 9-10 (confirmed on),
 * all four (LFW's protocol), and TAR at FAR 1e-3 over every pair of pairs.txt.
 */
export function foldSummary(folds: readonly (readonly { s: number; same: boolean }[])[]) {
  const flat = folds.flat();
  const tar = tarAtFar(
    flat.filter((x) => x.same).map((x) => x.s),
    flat.filter((x) => !x.same).map((x) => x.s),
    1e-3,
  );
  return {
    dev: crossFoldAccuracy(folds.slice(0, 2)),
    test: crossFoldAccuracy(folds.slice(2)),
    all: crossFoldAccuracy(folds),
    tar,
  };
}

/** Embeddings by image, kept between runs as `<path>.json` (image names) and `<path>.bin` (Float32, in that order). */
/** `fingerprint`: support/engine-fingerprint.ts, what the embeddings were made by. */
export function saveEmbeddings(path: string, emb: ReadonlyMap<string, Float32Array>, fingerprint: string): void {
  const names = [...emb.keys()];
  const dims = names.length ? emb.get(names[0]!)!.length : 0;
  const all = new Float32Array(names.length * dims);
  names.forEach((n, i) => all.set(emb.get(n)!, i * dims));
  writeFileSync(`${path}.json`, JSON.stringify({ dims, names, fingerprint }));
  writeFileSync(`${path}.bin`, new Uint8Array(all.buffer));
}

/** The cached embeddings; undefined when `fingerprint` is given and they were made by another engine. */
export function loadEmbeddings(path: string): Map<string, Float32Array>;
export function loadEmbeddings(path: string, fingerprint: string): Map<string, Float32Array> | undefined;
export function loadEmbeddings(path: string, fingerprint?: string): Map<string, Float32Array> | undefined {
  const head = JSON.parse(readFileSync(`${path}.json`, 'utf8')) as {
    dims: number;
    names: string[];
    fingerprint?: string;
  };
  if (fingerprint !== undefined && head.fingerprint !== fingerprint) return undefined;
  const { dims, names } = head;
  const buf = readFileSync(`${path}.bin`);
  const all = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  return new Map(names.map((n, i) => [n, all.slice(i * dims, (i + 1) * dims)]));
}

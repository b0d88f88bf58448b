import { Gaussian } from './distractors.js';

/**
 * Deterministic pseudo-random unit vectors (xorshift from the seed), so two runs hold the same
 * gallery: for index and snapshot tests that need many distinct templates, not faces.
 */
export function pseudoUnit(seed: number, dims = 512): Float32Array {
  let x = (seed + 1) * 2654435761;
  const v = new Float32Array(dims);
  let n = 0;
  for (let j = 0; j < dims; j++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    v[j] = ((x >>> 0) / 2 ** 32) * 2 - 1;
    n += v[j]! * v[j]!;
  }
  return v.map((c) => c / Math.sqrt(n));
}

/**
 * Face-like unit vectors for the quantised index's tests: Gaussian around a small shared mean (as real
 * embeddings are), and `near` another one at about cosine `cos` with a given vector (another photo of
 * the same person).
 */
export function faceLikeVectors(seed: number, dims = 512) {
  const rng = new Gaussian(seed);
  const unit = (x: Float32Array) => {
    let s = 0;
    for (let j = 0; j < dims; j++) s += x[j]! * x[j]!;
    return x.map((c) => c / Math.sqrt(s));
  };
  const mean = Float32Array.from({ length: dims }, () => rng.next() * 0.01);
  const sample = () => unit(Float32Array.from({ length: dims }, (_, j) => mean[j]! + rng.next() / Math.sqrt(dims)));
  const near = (v: Float32Array, cos: number) => {
    const e = sample();
    return unit(v.map((x, j) => cos * x + Math.sqrt(1 - cos * cos) * e[j]!));
  };
  return { sample, near };
}

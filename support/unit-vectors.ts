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

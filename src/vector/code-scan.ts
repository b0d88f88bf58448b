import type { PopcountKernel } from './popcount.wasm.js';
import type { StageClock } from './stage-clock.js';
import { gatherReadAhead, underReadAhead } from './read-ahead.js';

/**
 * Which rows of the quantised index get scored on int8 (quantized-index.ts): the Hamming stages, over
 * the kernel's memory. Two ways, the same kind of answer (at least `want` rows, ties at the cut kept):
 *
 * - full scan: the 512-bit sign code of every row (64 bytes a row: 64 MB streamed per search at 1M);
 * - pre-selection (`share` > 0): first a 128-bit short code of every row (16 bytes a row), keeping the
 *   nearest `share` of the rows, then the 512-bit codes of those rows only. A short bit is the sign of
 *   the centred vector's projection on a sparse direction (4 components with fixed signs; the 128
 *   directions partition the 512 components, so they are orthogonal and see every component), so its
 *   Hamming distance estimates the angle in that 128-dimensional subspace. bench/scale measures, on
 *   real probes and their mates, the share that keeps genuine matches.
 *
 * Short codes are derived from the int8 rows (never stored in a snapshot): a row loaded back gets the
 * same short code it had.
 */
export const DIMS = 512;
export const CODE_BYTES = DIMS / 8;
export const SHORT_BYTES = 16;
const SHORT_BITS = SHORT_BYTES * 8;
// Rows per block of the sample the pre-selection's cut is taken from (4 blocks).
const SAMPLE_BLOCK = 8192;
// Fixed regions at the start of the kernel's memory; the per-row regions follow (`layout`).
export const HIST = 0;
export const QUERY = 4096;
export const SHORT_QUERY = QUERY + CODE_BYTES;
export const OUT = 8192;
export const MAX_OUT = 65536;
// The int8 stage (int8-stage.ts): the int16 query, a batch of copied int8 rows, their dot products.
export const INT8_ROWS = 256;
export const INT8_QUERY = OUT + MAX_OUT * 4;
export const INT8_BATCH = INT8_QUERY + DIMS * 2;
export const INT8_DOTS = INT8_BATCH + INT8_ROWS * DIMS;
// The search helper's histogram (shared-scan.ts).
export const HELPER_HIST = INT8_DOTS + INT8_ROWS * 4;
const CODES = HELPER_HIST + 4096;

/**
 * How many Hamming candidates the quantised index scores on int8 for a gallery of n templates: n / 2000, at least
 * 512 (512 at 1M). n / 400 kept the same real mates at 1M as n / 1000 at 1.4x the CPU; n / 1000 the same as n / 2000
 * at 1.6x the int8 stage's CPU, and n / 2000 brought the 1M p99 under 5 ms (docs/benchmarks.md, scale step 12).
 */
export const defaultCandidates = (n: number, k: number): number =>
  Math.max(4 * k, Math.min(MAX_OUT / 2, Math.max(512, Math.ceil(n / 2000))));

/** The share of rows the 128-bit pre-selection keeps for the 512-bit scan (0: scan every code). */
export const DEFAULT_PRESELECT = 0.03;

export interface ScanLayout {
  readonly codes: number;
  readonly short: number;
  readonly dist: number;
  /** Rows the pre-selection keeps (u32), at most `pickMax`. */
  readonly pick: number;
  readonly pickMax: number;
  /**
   * The search helper's picks (u32) and their distances (u16), pickMax / 2 each (shared-scan.ts): apart
   * from every region the single-thread path writes, so a helper that answers late corrupts nothing.
   */
  readonly helperPick: number;
  readonly helperDist: number;
  readonly end: number;
}

/** Where each per-row region lies for a capacity (a multiple of 4): codes, short codes, distances, picks. */
export function layout(capacity: number): ScanLayout {
  const short = CODES + capacity * CODE_BYTES;
  const dist = short + capacity * SHORT_BYTES;
  const pick = dist + capacity * 2;
  const pickMax = capacity / 2;
  const helperPick = pick + pickMax * 4;
  const helperDist = helperPick + pickMax * 2;
  return { codes: CODES, short, dist, pick, pickMax, helperPick, helperDist, end: helperDist + pickMax };
}

// The sparse directions: a fixed pseudo-random partition of the components into groups of 4, with signs.
const ORDER = new Uint16Array(DIMS);
const SIGN = new Float32Array(DIMS);
{
  let x = 0x9e3779b9;
  const next = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  ORDER.forEach((_, j) => (ORDER[j] = j));
  for (let j = DIMS - 1; j > 0; j--) {
    const i = next() % (j + 1);
    [ORDER[i], ORDER[j]] = [ORDER[j]!, ORDER[i]!];
  }
  SIGN.forEach((_, j) => (SIGN[j] = next() & 1 ? 1 : -1));
}

/** The short code of (scale * v[o..o+512] - centre) into `into` at `at`. */
export function shortCode(
  v: ArrayLike<number>,
  o: number,
  scale: number,
  centre: Float32Array,
  into: Uint8Array,
  at: number,
): void {
  for (let b = 0; b < SHORT_BYTES; b++) {
    let byte = 0;
    for (let t = 0; t < 8; t++) {
      const g = (b * 8 + t) * 4;
      let s = 0;
      for (let u = 0; u < 4; u++) {
        const j = ORDER[g + u]!;
        s += SIGN[g + u]! * (scale * v[o + j]! - centre[j]!);
      }
      if (s > 0) byte |= 1 << t;
    }
    into[at + b] = byte;
  }
}

/** The query's sign code at QUERY and short code at SHORT_QUERY of the kernel's memory. */
export function queryCodes(q: Float32Array, centre: Float32Array, mem: Uint8Array): void {
  for (let b = 0; b < CODE_BYTES; b++) {
    let byte = 0;
    for (let j = 0; j < 8; j++) if (q[b * 8 + j]! > centre[b * 8 + j]!) byte |= 1 << j;
    mem[QUERY + b] = byte;
  }
  shortCode(q, 0, 1, centre, mem, SHORT_QUERY);
}

/** int8 row (at o) . q, on four accumulators. */
export function int8Dot(row: Int8Array, o: number, q: Float32Array): number {
  let [s0, s1, s2, s3] = [0, 0, 0, 0];
  for (let j = 0; j < DIMS; j += 4) {
    s0 += row[o + j]! * q[j]!;
    s1 += row[o + j + 1]! * q[j + 1]!;
    s2 += row[o + j + 2]! * q[j + 2]!;
    s3 += row[o + j + 3]! * q[j + 3]!;
  }
  return s0 + s1 + s2 + s3;
}

/** The mean of the vectors (a centre for the codes). */
export function meanOf(vectors: Iterable<Float32Array>): Float32Array {
  const mean = new Float64Array(DIMS);
  let n = 0;
  for (const v of vectors) {
    for (let j = 0; j < DIMS; j++) mean[j]! += v[j]!;
    n++;
  }
  return Float32Array.from(mean, (x) => (n ? x / n : 0));
}

/** The smallest distance d such that at least `want` rows are at d or nearer (or the largest). */
export function cutAt(hist: Uint32Array, want: number, max: number): number {
  let cutoff = 0;
  for (let seen = hist[0]!; seen < want && cutoff < max; seen += hist[++cutoff]!);
  return cutoff;
}

/**
 * The rows (of n, their 512-bit distances at `dist`) at or under `cutoff`, at most MAX_OUT, at OUT. When
 * more lie there, `collect` would keep the first in row order, and a nearer row after them would be
 * lost: the cut is lowered until the rows under it fit, and the rest filled with the ties just above.
 */
function nearest(k: PopcountKernel, dist: number, n: number, cutoff: number): Uint32Array {
  const mem = k.memory.buffer;
  let m = k.collect(dist, n, cutoff, OUT, MAX_OUT);
  if (m < MAX_OUT) return new Uint32Array(mem, OUT, m);
  while (cutoff > 0 && (m = k.collect(dist, n, --cutoff, OUT, MAX_OUT)) >= MAX_OUT);
  if (m >= MAX_OUT) return new Uint32Array(mem, OUT, m);
  const [out, d] = [new Uint32Array(mem, OUT, MAX_OUT), new Uint16Array(mem, dist, n)];
  for (let i = 0; i < n && m < MAX_OUT; i++) if (d[i] === cutoff + 1) out[m++] = i;
  return out;
}

/**
 * The two Hamming stages over two threads (shared-scan.ts): given the cut, the rows under it listed at
 * `pick` and their 512-bit distances at `dist` and HIST, as the single-thread pass leaves them (its
 * 'short' lap taken); or undefined (no helper, or a case it leaves to that pass, which then runs as
 * without it: it reads only what it writes itself).
 */
export type SplitScan = (
  lay: ScanLayout,
  n: number,
  cutoff: number,
  want: number,
  clock?: StageClock,
) => number | undefined;

/**
 * The rows to score (row numbers, a view valid until the next scan), the query's codes being at QUERY
 * and SHORT_QUERY. The pre-selection runs when it keeps at most a quarter of the rows.
 */
export function scanCandidates(
  k: PopcountKernel,
  lay: ScanLayout,
  n: number,
  want: number,
  share: number,
  clock?: StageClock,
  split?: SplitScan,
): Uint32Array {
  const mem = k.memory.buffer;
  const hist = new Uint32Array(mem, HIST, DIMS + 1);
  hist.fill(0);
  const keep = Math.max(want, Math.ceil(n * share));
  const full = () => {
    hist.fill(0);
    k.scan(lay.codes, n, QUERY, lay.dist, HIST);
    const out = nearest(k, lay.dist, n, cutAt(hist, want, DIMS));
    clock?.lap('codes');
    return out;
  };
  if (share <= 0 || keep > n / 4) return full();
  // The cut that keeps about `keep` rows, from the short distances of 4 blocks spread over the rows,
  // then one pass that lists the rows under it (the cut only widens if it kept fewer than `want`).
  const block = Math.min(SAMPLE_BLOCK, n >> 2);
  for (let b = 0; b < 4; b++)
    k.scanShort(lay.short + Math.floor((b * n) / 4) * SHORT_BYTES, block, SHORT_QUERY, lay.dist, HIST);
  let cutoff = cutAt(hist, Math.ceil((4 * block * keep) / n), SHORT_BITS);
  // The cut is taken before the split: both threads list the rows under the same cut, the same set.
  let m = split?.(lay, n, cutoff, want, clock) ?? -1;
  if (m < 0) {
    const under = (cut: number) => underReadAhead(k, mem, lay.short, n, SHORT_QUERY, cut, lay.pick, lay.pickMax);
    m = under(cutoff);
    while (m < want && cutoff < SHORT_BITS) m = under(++cutoff);
    // `under` stops when its list is full: the rows after it were never compared (ties at the cut, or a
    // sample unlike the rest), and the nearest may be among them. Every code is scanned instead.
    clock?.lap('short');
    if (m + 4 > lay.pickMax) return full();
    hist.fill(0);
    gatherReadAhead(k, mem, lay.codes, m, QUERY, lay.dist, HIST, lay.pick);
  }
  const out = nearest(k, lay.dist, m, cutAt(hist, want, DIMS));
  const pick = new Uint32Array(mem, lay.pick, m);
  for (let i = 0; i < out.length; i++) out[i] = pick[out[i]!]!;
  clock?.lap('codes');
  return out;
}

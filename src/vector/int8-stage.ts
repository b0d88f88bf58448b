import type { PopcountKernel } from './popcount.wasm.js';
import {
  CODE_BYTES,
  DIMS,
  int8Dot,
  INT8_BATCH,
  INT8_DOTS,
  INT8_QUERY,
  INT8_ROWS,
  QUERY,
  SHORT_BYTES,
} from './code-scan.js';

/**
 * The int8 stage of the quantised index (quantized-index.ts): the candidates the Hamming stages kept
 * are scored on their int8 rows, each score with a rigorous error bound against the exact float cosine.
 *
 * - `wasm` (the default): the query is rounded to int16 (q ~ qs * q16, |q - qs * q16| <= qs / 2 per
 *   component), the candidate rows are copied into the kernel's memory in batches and their exact integer
 *   dot products with q16 taken with SIMD (int8-dot.wasm.ts). With v ~ scale * int8 (|v - scale * int8|
 *   <= scale / 2 per component, |int8| <= 128):
 *   |v.q - scale * qs * (int8.q16)| <= scale / 2 * |q|_1 + scale * qs / 2 * 512 * 128.
 *   The second term is about 2% of the first on face embeddings.
 * - `js` (the path before it, kept for bench/scale to compare): int8 . q in float64 in JavaScript, bound
 *   scale / 2 * |q|_1.
 *
 * The caller adds 1e-6 to every bound (float32 scales, float64 sums).
 */
export type Int8Kernel = 'wasm' | 'js';

/** The query's int16 copy into `into` (512 components); returns its scale qs (0 for a zero query). */
export function queryInt16(q: Float32Array, into: Int16Array): number {
  let max = 0;
  for (let j = 0; j < DIMS; j++) max = Math.max(max, Math.abs(q[j]!));
  const qs = max / 32767;
  const inv = qs ? 1 / qs : 0;
  for (let j = 0; j < DIMS; j++) into[j] = Math.max(-32767, Math.min(32767, Math.round(q[j]! * inv)));
  return qs;
}

/** int8 row (at o) . q16, exactly (integers): what the wasm kernel computes. */
export function int8DotI16(row: Int8Array, o: number, q16: Int16Array): number {
  let s = 0;
  for (let j = 0; j < DIMS; j++) s += row[o + j]! * q16[j]!;
  return s;
}

export interface Int8Scores {
  /** scale * (int8 . q) for each candidate, in the candidates' order, before the row's scale. */
  readonly dots: Float64Array;
  /** The bound of candidate i is scale_i * (|q|_1 / 2 + slack) + 1e-6. */
  readonly slack: number;
}

/**
 * The candidates' int8 scores before their row scale: row r lives in chunk `bytes[r >> bits]` at
 * `(r & (2^bits - 1)) * 512`.
 */
export function int8Scores(
  kernel: PopcountKernel,
  mode: Int8Kernel,
  bytes: readonly Int8Array[],
  bits: number,
  rows: ArrayLike<number>,
  q: Float32Array,
): Int8Scores {
  const m = rows.length;
  const dots = new Float64Array(m);
  const mask = (1 << bits) - 1;
  if (mode === 'js') {
    for (let i = 0; i < m; i++) dots[i] = int8Dot(bytes[rows[i]! >> bits]!, (rows[i]! & mask) * DIMS, q);
    forgetQuery(kernel.memory.buffer);
    return { dots, slack: 0 };
  }
  const buf = kernel.memory.buffer;
  const qs = queryInt16(q, new Int16Array(buf, INT8_QUERY, DIMS));
  const batch = new Int8Array(buf, INT8_BATCH, INT8_ROWS * DIMS);
  const out = new Int32Array(buf, INT8_DOTS, INT8_ROWS);
  for (let at = 0; at < m; at += INT8_ROWS) {
    const k = Math.min(INT8_ROWS, m - at);
    // (stored where the dots go next, so that the reads are not optimised away)
    out[0] = touch(bytes, bits, rows, at, k);
    for (let i = 0; i < k; i++) {
      const r = rows[at + i]!;
      const o = (r & mask) * DIMS;
      batch.set(bytes[r >> bits]!.subarray(o, o + DIMS), i * DIMS);
    }
    kernel.dots(INT8_BATCH, k, INT8_QUERY, INT8_DOTS);
    for (let i = 0; i < k; i++) dots[at + i] = qs * out[i]!;
  }
  // What the batch held was copies of templates' rows: nothing of them stays in the kernel's memory.
  batch.fill(0, 0, Math.min(m, INT8_ROWS) * DIMS);
  out.fill(0);
  forgetQuery(buf);
  return { dots, slack: qs * 256 * 128 };
}

/**
 * The last stage of a search to use the probe: its copies in the kernel's memory (the sign and short
 * codes the Hamming stages read, the int16 query here, a cosine of 1 with the probe) go with it. The
 * probe is biometric data that no search keeps.
 */
function forgetQuery(buf: ArrayBufferLike): void {
  new Uint8Array(buf, QUERY, CODE_BYTES + SHORT_BYTES).fill(0);
  new Int16Array(buf, INT8_QUERY, DIMS).fill(0);
}

/**
 * Reads one byte of every cache line of the batch's rows before they are copied: the loads are
 * independent, so the processor has many of these random reads in flight at once, where the copies
 * one row after the other would wait for each (about a third less CPU per row, measured at 1M rows).
 */
function touch(bytes: readonly Int8Array[], bits: number, rows: ArrayLike<number>, at: number, k: number): number {
  const mask = (1 << bits) - 1;
  let t = 0;
  for (let i = at; i < at + k; i++) {
    const c = bytes[rows[i]! >> bits]!;
    const o = (rows[i]! & mask) * DIMS;
    t += c[o]! + c[o + 64]! + c[o + 128]! + c[o + 192]! + c[o + 256]! + c[o + 320]! + c[o + 384]! + c[o + 448]!;
  }
  return t;
}

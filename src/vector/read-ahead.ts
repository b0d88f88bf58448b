/** The kernel exports the two Hamming stages need (popcount.wasm.ts). */
export interface ScanKernel {
  under(codes: number, n: number, query: number, cutoff: number, out: number, max: number): number;
  gather(codes: number, n: number, query: number, dist: number, hist: number, rows: number): void;
}

/**
 * The kernel's two memory-bound stages with their memory read ahead from JavaScript. The kernel's
 * loops wait for one cache line after another (a 10M-row pass read 2-3 GB/s where memcmp reads 12-15:
 * bench/scale/under.ts); a JavaScript loop reading one byte of each line is a run of independent
 * loads the CPU keeps in flight together, so the kernel then finds its lines in the cache. Same
 * results, in the same order. Both run on the search helper's thread as well (its source carries
 * them): plain functions of their arguments, no inner function, nothing from the module.
 */

/**
 * `under` (the rows of 16-byte codes within `cutoff` of the query, listed into out, at most max of
 * them) over blocks of 4,096 rows (64 KiB), each block's lines read first: 52.6 to 27.5 ms over 10M
 * rows on one thread (bench/scale/under.ts). The kernel lists a block's rows from 0; they are moved
 * to the whole's numbering. It stops where the kernel would: fewer than 4 slots left. Below `from`
 * rows (16 MiB of codes) the pass runs from the cache, where reading ahead only adds its own reads
 * (1.6 to 1.85 ms at 1M): the kernel runs alone.
 */
export function underReadAhead(
  e: ScanKernel,
  buf: SharedArrayBuffer,
  codes: number,
  n: number,
  query: number,
  cutoff: number,
  out: number,
  max: number,
  from = 1 << 20,
): number {
  if (n < from) return e.under(codes, n, query, cutoff, out, max);
  const mem = new Uint8Array(buf);
  const picks = new Uint32Array(buf, out, max);
  let found = 0;
  let lines = 0;
  for (let b = 0; b < n && found + 4 <= max; b += 4096) {
    const rows = b + 4096 < n ? 4096 : n - b;
    const start = codes + b * 16;
    for (let a = start, end = start + rows * 16; a < end; a += 64) lines ^= mem[a]!;
    const m = e.under(start, rows, query, cutoff, out + found * 4, max - found);
    if (b) for (let i = found; i < found + m; i++) picks[i]! += b;
    found += m;
  }
  // (lines is never used: the reads are what counts, and typed-array loads are kept by V8.)
  return lines === -1 ? -1 : found;
}

/**
 * `gather` (the 512-bit distances of the n rows listed at `rows`, into dist and hist) in batches of
 * 256 rows whose random code lines are read first: 30.2 to 11.9 ms for 300,000 rows of 10M, 1.88 to
 * 0.65 ms for 30,000 of 1M (bench/scale/gather.ts).
 */
export function gatherReadAhead(
  e: ScanKernel,
  buf: SharedArrayBuffer,
  codes: number,
  n: number,
  query: number,
  dist: number,
  hist: number,
  rows: number,
): number {
  const mem = new Uint8Array(buf);
  const list = new Uint32Array(buf, rows, n);
  let lines = 0;
  for (let b = 0; b < n; b += 256) {
    const end = b + 256 < n ? b + 256 : n;
    for (let i = b; i < end; i++) lines ^= mem[codes + list[i]! * 64]!;
    e.gather(codes, end - b, query, dist + b * 2, hist, rows + b * 4);
  }
  return lines;
}

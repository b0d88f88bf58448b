/** The kernel export a gather needs (popcount.wasm.ts). */
export interface GatherKernel {
  gather(codes: number, n: number, query: number, dist: number, hist: number, rows: number): void;
}

/**
 * The kernel's gather (the 512-bit distances of the n rows listed at `rows`, into dist and hist) in
 * batches of 256 rows whose code lines are each read once from JavaScript first. The rows are random
 * lines of a large memory: the kernel's loop waits for one row's line after another, while these
 * reads are independent, so the CPU keeps many of them in flight at once and the kernel then finds
 * its lines in the cache (30.2 to 11.9 ms for 300,000 rows of 10M, 1.88 to 0.65 ms for 30,000 of 1M:
 * bench/scale/gather.ts). The same distances and histogram, in the same order. It runs on the search
 * helper's thread as well (its source is the helper's): a plain function of its arguments.
 */
export function gatherTouched(
  e: GatherKernel,
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
  // The lines' first bytes, folded together and returned so that no compiler drops the reads.
  let lines = 0;
  for (let b = 0; b < n; b += 256) {
    const end = b + 256 < n ? b + 256 : n;
    for (let i = b; i < end; i++) lines ^= mem[codes + list[i]! * 64]!;
    e.gather(codes, end - b, query, dist + b * 2, hist, rows + b * 4);
  }
  return lines;
}

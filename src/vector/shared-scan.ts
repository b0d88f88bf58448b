import type { PopcountKernel } from './popcount.wasm.js';
import { CODE_BYTES, HELPER_HIST, HIST, QUERY, SHORT_BYTES, SHORT_QUERY, type ScanLayout } from './code-scan.js';
import { currentHelper, helperMode, searchHelper } from './search-helper.js';
import type { StageClock } from './stage-clock.js';
import { gatherReadAhead, underReadAhead } from './read-ahead.js';

/**
 * The pre-selection's two memory-bound stages (code-scan.ts: `under` over every short code, then the
 * gathered 512-bit distances of the rows it lists) split over two threads sharing one kernel memory:
 * the searching thread takes rows [0, h), the search helper (search-helper.ts) rows [h, n), each into
 * its own regions; then the helper's picks are offset by h and copied after the searching thread's,
 * its distances likewise, the histograms added. The cut is chosen before the split, so the rows kept,
 * their order, distances and histogram are exactly those of the single-thread pass, and what follows
 * (`nearest`, int8, select) runs on the same input. Whatever the helper cannot answer (busy, gone, late,
 * a list full, fewer rows than wanted) is left to the single-thread pass, which then runs as without it.
 *
 * No row changes while the helper reads: adds, removals and growth run on the searching thread, which
 * is inside the search for as long as the helper works on it, and which, for a half it stopped waiting
 * for, first waits for the helper to finish (`settle`) before it changes a row.
 */

/** Below this many rows a search runs on one thread (the Atomics round trip costs more than the half saves). */
export const SPLIT_FROM = 131_072;

// Indexes closed or collected without close release their memory in the helper.
const ids = { next: 1 };
const dropped = new FinalizationRegistry<number>((id) => currentHelper()?.detach(id));

export class SharedScan {
  private readonly id = ids.next++;
  private closed = false;

  constructor(private readonly kernel: PopcountKernel) {
    dropped.register(this, this.id, this);
  }

  /** code-scan.ts's SplitScan: the merged count, or undefined for the single-thread pass. */
  split(lay: ScanLayout, n: number, cutoff: number, want: number, clock?: StageClock): number | undefined {
    if (this.closed) return undefined;
    const helper = searchHelper();
    if (!helper) return undefined;
    if (!helper.has(this.id)) helper.attach(this.id, this.kernel.memory);
    const h = (n >> 1) & ~15;
    const max = lay.pickMax / 2;
    const posted = helper.post([
      this.id,
      lay.short + h * SHORT_BYTES,
      lay.codes + h * CODE_BYTES,
      n - h,
      cutoff,
      lay.helperPick,
      max,
      lay.helperDist,
      HELPER_HIST,
      QUERY,
      SHORT_QUERY,
    ]);
    if (!posted) return undefined;
    const k = this.kernel;
    const t = performance.now();
    const buf = k.memory.buffer;
    let a: number;
    try {
      a = underReadAhead(k, buf, lay.short, h, SHORT_QUERY, cutoff, lay.pick, max);
      clock?.lap('short');
      if (a + 4 <= max) {
        new Uint32Array(buf, HIST, 513).fill(0);
        gatherReadAhead(k, buf, lay.codes, a, QUERY, lay.dist, HIST, lay.pick);
      }
    } catch (e) {
      // The posted half is still settled (taken back, waited for or abandoned) and released, or every
      // later post would find the helper busy and its scratch would never be scrubbed.
      const left = helper.answer(k, buf, 0, helperMode.waitMs ?? 20);
      if (left !== undefined) helper.release(buf, left);
      throw e;
    }
    // A late helper costs at most a few times the own half (then the single pass runs), never forever.
    const own = performance.now() - t;
    const b = helper.answer(k, buf, own, helperMode.waitMs ?? Math.max(20, 4 * own));
    if (b === undefined) return undefined;
    try {
      if (a + 4 > max || b < 0 || a + b < want || a + b + 4 > lay.pickMax) return undefined;
      merge(buf, lay, a, b, h);
      return a + b;
    } finally {
      helper.release(buf, b);
    }
  }

  /** Before a row changes: a half the searching thread stopped waiting for is finished first. */
  settle(): void {
    currentHelper()?.settle();
  }

  /** The helper lets go of this index's memory (searches go on, on one thread). */
  close(): void {
    // (a half still running would leave its scratch unscrubbed if the thread stopped under it)
    this.settle();
    this.closed = true;
    dropped.unregister(this);
    currentHelper()?.detach(this.id);
  }
}

function merge(buf: SharedArrayBuffer, lay: ScanLayout, a: number, b: number, h: number): void {
  new Uint16Array(buf, lay.dist + a * 2, b).set(new Uint16Array(buf, lay.helperDist, b));
  const pick = new Uint32Array(buf, lay.pick + a * 4, b);
  const theirs = new Uint32Array(buf, lay.helperPick, b);
  for (let i = 0; i < b; i++) pick[i] = theirs[i]! + h;
  const hist = new Uint32Array(buf, HIST, 513);
  const add = new Uint32Array(buf, HELPER_HIST, 513);
  for (let d = 0; d < 513; d++) hist[d]! += add[d]!;
}

import type { GalleryIndex } from '../vector/gallery-index.js';
import type { SegmentRow } from '../vector/index-segment.repository.js';
import { snapshotFailed, type SegmentRange } from './index-snapshot-writer.js';
import type { ChangeGate } from './change-gate.js';

/** How long after a change its destroyed segments are written again (the changes of a burst share one write). */
export const REWRITE_DELAY_MS = 1_000;

/** One background write of destroyed ranges (the bench and tests read these). */
export interface RewriteRun {
  readonly ranges: number;
  readonly segments: number;
  readonly templates: number;
  /** Feed position the segments were written at. */
  readonly since: number;
  readonly ms: number;
  /** Not written: another process holds the writer's lease (retried), or the feed was pruned past `since`. */
  readonly skipped?: 'lease' | 'pruned' | 'failed';
  /** How many times, and how long in all, its steps waited for changes in flight (ChangeGate). */
  readonly waited: { readonly count: number; readonly ms: number };
}

export interface RewriteDeps {
  readonly index: GalleryIndex;
  /** The change-feed position the live index is current at (IndexFollower.position). */
  readonly position: () => number;
  readonly model: string;
  readonly delayMs: number;
  /** The changes in flight its steps wait for (the writer's `pause`). */
  readonly gate: ChangeGate;
  /** Writes segments of these ranges under the writer's lease (IndexSnapshots.writeRanges); null: lease held. */
  readonly write: (
    index: GalleryIndex,
    since: number,
    ranges: readonly SegmentRange[],
  ) => Promise<{ ids: readonly string[]; templates: number; stopped?: true } | null>;
}

/**
 * Replaces, from the live index, the snapshot segments a change to someone's face data destroyed,
 * so that the next start does not decrypt the other people of their ranges again. In the background,
 * `delayMs` after the change (never in its transaction: the change does not wait), every range
 * destroyed meanwhile in one write; overlapping ranges of a purpose are merged. The segments are
 * written at the feed position the index is current at (every change up to it applied), by the
 * writer's rules (index-snapshot-writer.ts): people changed after it are left out, and a change
 * committing after a segment's row finds the row and destroys it (and its range is scheduled again).
 * If the process ends first, the next start reads the range from the store, as without this.
 */
export class SegmentRewrites {
  private pending: SegmentRange[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;
  /** The last runs, newest last. */
  readonly runs: RewriteRun[] = [];

  constructor(private readonly d: RewriteDeps) {}

  /** After a change committed: the segments it destroyed (this model's; another model's index is not here). */
  schedule(rows: readonly SegmentRow[]): void {
    for (const r of rows)
      if (r.model === this.d.model) this.add({ purposeId: r.purposeId, lo: r.subjectLo, hi: r.subjectHi });
    this.arm();
  }

  /** Runs what is pending now and waits for it (and for a run already going). */
  async flush(): Promise<void> {
    await this.running;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.run();
  }

  /** No more runs; waits for the one going. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = [];
    await this.running;
  }

  private add(r: SegmentRange): void {
    let merged = r;
    const rest: SegmentRange[] = [];
    for (const p of this.pending)
      if (p.purposeId === merged.purposeId && p.lo <= merged.hi && merged.lo <= p.hi)
        merged = {
          purposeId: p.purposeId,
          lo: p.lo < merged.lo ? p.lo : merged.lo,
          hi: p.hi > merged.hi ? p.hi : merged.hi,
        };
      else rest.push(p);
    this.pending = [...rest, merged];
  }

  private arm(): void {
    if (this.stopped || this.timer || !this.pending.length) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.run();
    }, this.d.delayMs);
    this.timer.unref();
  }

  private run(): Promise<void> {
    // One run at a time: what is scheduled meanwhile runs after it (finally arms the timer again).
    if (this.running || this.stopped || !this.pending.length) return this.running ?? Promise.resolve();
    const ranges = this.pending;
    this.pending = [];
    const t0 = performance.now();
    const since = this.d.position();
    const w0 = { ...this.d.gate.waits };
    const done = (r: Omit<RewriteRun, 'ranges' | 'since' | 'ms' | 'waited'>) => {
      const { count, ms } = this.d.gate.waits;
      const waited = { count: count - w0.count, ms: ms - w0.ms };
      this.runs.push({ ranges: ranges.length, since, ms: performance.now() - t0, waited, ...r });
      if (this.runs.length > 100) this.runs.shift();
    };
    this.running = this.d
      .write(this.d.index, since, ranges)
      .then((w) => {
        if (!w) for (const r of ranges) this.add(r);
        done(
          w
            ? { segments: w.ids.length, templates: w.templates, ...(w.stopped ? { skipped: 'pruned' } : {}) }
            : { segments: 0, templates: 0, skipped: 'lease' },
        );
      })
      .catch((e: unknown) => {
        snapshotFailed(e);
        done({ segments: 0, templates: 0, skipped: 'failed' });
      })
      .finally(() => {
        this.running = null;
        this.arm();
      });
    return this.running;
  }
}

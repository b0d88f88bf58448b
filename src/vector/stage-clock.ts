/**
 * Wall time per stage of the quantised search, summed over searches (bench/scale's profile): `start()`
 * before a search, `lap(stage)` at the end of each stage adds the time since the last mark to it.
 * Stages, in the order they run: 'short' (the query's codes and the 128-bit pre-selection), 'codes' (the
 * 512-bit distances and their cut), 'int8' (int8 scoring), 'select' (bounds, the k-th lower bound, order).
 */
export class StageClock {
  readonly ms = new Map<string, number>();
  private mark = 0;

  start(): void {
    this.mark = performance.now();
  }

  lap(stage: string): void {
    const now = performance.now();
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + now - this.mark);
    this.mark = now;
  }

  /** The totals, then zero. */
  take(): Record<string, number> {
    const out = Object.fromEntries(this.ms);
    this.ms.clear();
    return out;
  }
}

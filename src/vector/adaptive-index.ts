import { QuantizedIndex } from './quantized-index.js';
import { NativeExactIndex, type SearchOptions, type VectorHit, type VectorIndex } from './vector-index.js';

/** Below this many templates a purpose's index stays an exact float scan (about 2.5 ms at 32k). */
export const QUANTISE_FROM = 32_768;

/**
 * Exact search while the gallery is small; from `quantiseFrom` templates on, the quantised scan
 * (quantized-index.ts: sign codes and int8 vectors, no float vectors kept; its hits carry an error
 * bound and are re-scored on exact vectors by the caller), centred on the mean of the templates held
 * at that moment.
 * The switch happens once, inside add(), and never goes back (a shrinking gallery stays quantised).
 */
export class AdaptiveIndex implements VectorIndex {
  private inner: VectorIndex;
  private quantised = false;

  constructor(
    readonly dimensions: number,
    private readonly quantiseFrom = QUANTISE_FROM,
  ) {
    this.inner = new NativeExactIndex(dimensions);
  }

  /** A purpose's index that starts quantised, from rows loaded out of a snapshot. */
  static holding(q: QuantizedIndex): AdaptiveIndex {
    const a = new AdaptiveIndex(q.dimensions);
    a.inner = q;
    a.quantised = true;
    return a;
  }

  /** The quantised index inside, once it switched (a snapshot is written from it). */
  get quantisedIndex(): QuantizedIndex | undefined {
    return this.quantised ? (this.inner as QuantizedIndex) : undefined;
  }

  get kind(): 'exact' | 'quantised' {
    return this.quantised ? 'quantised' : 'exact';
  }
  get size(): number {
    return this.inner.size;
  }
  has(id: string): boolean {
    return this.inner.has(id);
  }
  ids(): string[] {
    return this.inner.ids();
  }
  remove(id: string): boolean {
    return this.inner.remove(id);
  }
  search(q: Float32Array, k: number, opts?: SearchOptions): VectorHit[] {
    return this.inner.search(q, k, opts);
  }
  close(): void {
    this.inner.close?.();
  }

  add(id: string, v: Float32Array): void {
    this.inner.add(id, v);
    if (!this.quantised && this.dimensions === 512 && this.inner.size >= this.quantiseFrom) this.quantise();
  }

  private quantise(): void {
    const exact = this.inner as NativeExactIndex;
    const { data, rowIds } = exact.rows();
    const d = this.dimensions;
    const n = rowIds.length;
    const rows = function* () {
      for (let r = 0; r < n; r++) yield data.subarray(r * d, (r + 1) * d);
    };
    const q = QuantizedIndex.centredOn(rows(), n * 2);
    for (let r = 0; r < n; r++) q.add(rowIds[r]!, data.subarray(r * d, (r + 1) * d));
    // The exact index's rows go with it; zero them first so no copy lingers until collected.
    data.fill(0);
    this.inner = q;
    this.quantised = true;
  }
}

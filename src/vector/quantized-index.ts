import { popcountKernel, type PopcountKernel } from './popcount.wasm.js';
import type { SearchOptions, VectorHit, VectorIndex } from './vector-index.js';
import { CODE_BYTES, DIMS, layout, meanOf, queryCodes, scanCandidates } from './code-scan.js';
import { DEFAULT_PRESELECT, defaultCandidates, SHORT_BYTES, shortCode, type ScanLayout } from './code-scan.js';
import { int8Scores, type Int8Kernel } from './int8-stage.js';
import type { StageClock } from './stage-clock.js';
import { SharedScan, SPLIT_FROM } from './shared-scan.js';

const PAGE = 65536;
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;

/**
 * Quantised scan with bounded re-ranking. Every template has a 512-bit code: the signs of its
 * components after subtracting a centre (the mean of the gallery when the index was made), which
 * keeps every bit near 50/50 on real embeddings. A search takes the few hundred to few thousand nearest
 * codes by Hamming distance (it tracks the angle) with SIMD popcount, on the rows a 128-bit short code
 * pre-selects in large galleries (code-scan.ts).
 *
 * Those are scored on int8 copies of the templates (one scale per row: v ~ scale * int8) against an
 * int16 copy of the query, with SIMD (int8-stage.ts, which states the error bound against the exact cosine).
 * The hits returned carry that bound (`error`): every row that may be in the exact top k above the
 * threshold is returned, possibly more than k, and the caller re-scores them on the exact float
 * templates read from the store (gallery-index.ts), so every decision is an exact float cosine and
 * the result is the one a float re-rank of the same candidates would give. Nothing is approximate
 * but which rows are candidates; bench/scale measures that a real probe's mate is still among them.
 *
 * Memory per template: 64 B of code, 16 of short code, 512 of int8, 4 of scale and 4 of scan scratch
 * (plus its id and map entries), against 2,048 for float32. Removal moves the last row into the hole and zeroes the vacated code, row and scale.
 */
export class QuantizedIndex implements VectorIndex {
  readonly dimensions = DIMS;
  private readonly kernel: PopcountKernel;
  private capacity: number;
  private codes!: Uint8Array;
  private short!: Uint8Array;
  private lay!: ScanLayout;
  /** The share of rows the short codes pre-select (bench/scale compares it with 0, every code scanned). */
  preselect = DEFAULT_PRESELECT;
  /** How the int8 stage computes (int8-stage.ts; bench/scale compares 'js', the path before the kernel). */
  int8Kernel: Int8Kernel = 'wasm';
  /** Per-stage times of the searches, when set (bench/scale's profile). */
  clock?: StageClock;
  /** 1: every search on its own thread; 2: large ones split with the search helper (shared-scan.ts). */
  static threads = 2;
  /** From how many rows a search splits (tests lower it). */
  splitFrom = SPLIT_FROM;
  private readonly shared: SharedScan;
  private readonly bytes: Int8Array[] = [];
  private readonly scales: Float32Array[] = [];
  private rowIds: string[] = [];
  private readonly slot = new Map<string, number>();
  private readonly center: Float32Array;

  constructor(
    center: Float32Array,
    initialCapacity = CHUNK,
    /** How many rows the Hamming stages give to int8 scoring (bench/scale compares budgets). */
    public candidates: (n: number, k: number) => number = defaultCandidates,
  ) {
    if (center.length !== DIMS) throw new Error(`the quantised index is for ${DIMS} dimensions`);
    this.center = Float32Array.from(center);
    this.capacity = Math.ceil(Math.max(1, initialCapacity) / CHUNK) * CHUNK;
    this.kernel = popcountKernel(this.pagesFor(this.capacity));
    this.shared = new SharedScan(this.kernel);
    this.views();
  }

  /** An index centred on the mean of the given vectors. */
  static centredOn(vectors: Iterable<Float32Array>, initialCapacity?: number): QuantizedIndex {
    return new QuantizedIndex(meanOf(vectors), initialCapacity);
  }

  private pagesFor(capacity: number): number {
    return Math.ceil(layout(capacity).end / PAGE);
  }

  private views(): void {
    this.lay = layout(this.capacity);
    this.codes = new Uint8Array(this.kernel.memory.buffer, this.lay.codes, this.capacity * CODE_BYTES);
    this.short = new Uint8Array(this.kernel.memory.buffer, this.lay.short, this.capacity * SHORT_BYTES);
  }

  get size(): number {
    return this.rowIds.length;
  }
  has(id: string): boolean {
    return this.slot.has(id);
  }
  ids(): string[] {
    return [...this.rowIds];
  }

  /** Row r as int8 (v ~ scale * int8, |v - scale * int8| <= scale / 2 per component). */
  private quantise(r: number, v: Float32Array): void {
    let max = 0;
    for (let j = 0; j < DIMS; j++) {
      const a = v[j]!;
      if (a > max) max = a;
      else if (-a > max) max = -a;
    }
    const scale = Math.fround(max / 127);
    const inv = scale ? 1 / scale : 0;
    const chunk = this.bytes[r >> CHUNK_BITS]!;
    const o = (r & (CHUNK - 1)) * DIMS;
    // One pass writes the int8 row and the sign code (the bits of v - centre).
    const [codes, c, at] = [this.codes, this.center, r * CODE_BYTES];
    for (let b = 0; b < CODE_BYTES; b++) {
      let byte = 0;
      for (let j = 0; j < 8; j++) {
        const k = b * 8 + j;
        const x = v[k]!;
        chunk[o + k] = Math.round(x * inv);
        if (x > c[k]!) byte |= 1 << j;
      }
      codes[at + b] = byte;
    }
    this.scales[r >> CHUNK_BITS]![r & (CHUNK - 1)] = scale;
    shortCode(chunk, o, scale, c, this.short, r * SHORT_BYTES);
  }

  private moveRow(from: number, to: number): void {
    const d = (from & (CHUNK - 1)) * DIMS;
    this.bytes[to >> CHUNK_BITS]!.set(this.bytes[from >> CHUNK_BITS]!.subarray(d, d + DIMS), (to & (CHUNK - 1)) * DIMS);
    this.scales[to >> CHUNK_BITS]![to & (CHUNK - 1)] = this.scales[from >> CHUNK_BITS]![from & (CHUNK - 1)]!;
  }

  private clearRow(r: number): void {
    const o = (r & (CHUNK - 1)) * DIMS;
    this.bytes[r >> CHUNK_BITS]!.fill(0, o, o + DIMS);
    this.scales[r >> CHUNK_BITS]![r & (CHUNK - 1)] = 0;
  }

  private scaleOf(r: number): number {
    return this.scales[r >> CHUNK_BITS]![r & (CHUNK - 1)]!;
  }

  add(id: string, v: Float32Array): void {
    if (v.length !== DIMS) throw new Error(`vector has ${v.length} dimensions, index has ${DIMS}`);
    this.shared.settle();
    this.quantise(this.slot.get(id) ?? this.append(id), v);
  }

  private append(id: string): number {
    const r = this.rowIds.length;
    if (r >= this.capacity) {
      const from = this.lay.short;
      // Grown first: memory that cannot grow (past 4 GiB) throws with the index as it was.
      this.kernel.memory.grow(this.pagesFor(this.capacity * 2) - this.kernel.memory.buffer.byteLength / PAGE);
      this.capacity *= 2;
      this.views();
      // The short codes follow the codes: they move up with the capacity, and their old place (now
      // codes of rows not written yet) is zeroed, so a row removed later leaves no copy behind.
      const mem = new Uint8Array(this.kernel.memory.buffer);
      mem.copyWithin(this.lay.short, from, from + r * SHORT_BYTES).fill(0, from, from + r * SHORT_BYTES);
    }
    if (r >> CHUNK_BITS >= this.bytes.length) {
      this.bytes.push(new Int8Array(CHUNK * DIMS));
      this.scales.push(new Float32Array(CHUNK));
    }
    this.rowIds.push(id);
    this.slot.set(id, r);
    return r;
  }

  /** The centre the codes are signs against: a snapshot keeps it, and rows loaded back need the same. */
  centre(): Float32Array {
    return Float32Array.from(this.center);
  }

  /** The rows of these ids as held (codes, int8 components, scales), for a sealed snapshot segment. */
  exportRows(ids: readonly string[]): { codes: Uint8Array; rows: Int8Array; scales: Float32Array } {
    const codes = new Uint8Array(ids.length * CODE_BYTES);
    const rows = new Int8Array(ids.length * DIMS);
    const scales = new Float32Array(ids.length);
    ids.forEach((id, i) => {
      const r = this.slot.get(id)!;
      codes.set(this.codes.subarray(r * CODE_BYTES, (r + 1) * CODE_BYTES), i * CODE_BYTES);
      const o = (r & (CHUNK - 1)) * DIMS;
      rows.set(this.bytes[r >> CHUNK_BITS]!.subarray(o, o + DIMS), i * DIMS);
      scales[i] = this.scaleOf(r);
    });
    return { codes, rows, scales };
  }

  /** Appends rows exported by `exportRows` of an index with the same centre (ids not held yet), in blocks. */
  loadRows(ids: readonly string[], codes: Uint8Array, rows: Int8Array, scales: Float32Array): void {
    const first = this.rowIds.length;
    for (const id of ids) if (this.slot.has(id)) throw new Error(`row ${id} is already held`);
    this.shared.settle();
    try {
      for (const id of ids) this.append(id);
    } catch (e) {
      // Memory that cannot grow: the rows appended so far go again (they hold nothing yet).
      while (this.rowIds.length > first) this.remove(this.rowIds[this.rowIds.length - 1]!);
      throw e;
    }
    this.codes.set(codes.subarray(0, ids.length * CODE_BYTES), first * CODE_BYTES);
    for (let i = 0; i < ids.length;) {
      const r = first + i;
      const o = r & (CHUNK - 1);
      const k = Math.min(ids.length - i, CHUNK - o);
      this.bytes[r >> CHUNK_BITS]!.set(rows.subarray(i * DIMS, (i + k) * DIMS), o * DIMS);
      this.scales[r >> CHUNK_BITS]!.set(scales.subarray(i, i + k), o);
      const chunk = this.bytes[r >> CHUNK_BITS]!;
      for (let j = 0; j < k; j++)
        shortCode(chunk, (o + j) * DIMS, scales[i + j]!, this.center, this.short, (r + j) * SHORT_BYTES);
      i += k;
    }
  }

  remove(id: string): boolean {
    const i = this.slot.get(id);
    if (i === undefined) return false;
    this.shared.settle();
    const last = this.rowIds.length - 1;
    if (i !== last) {
      this.moveRow(last, i);
      this.codes.copyWithin(i * CODE_BYTES, last * CODE_BYTES, (last + 1) * CODE_BYTES);
      this.short.copyWithin(i * SHORT_BYTES, last * SHORT_BYTES, (last + 1) * SHORT_BYTES);
      const moved = this.rowIds[last]!;
      this.rowIds[i] = moved;
      this.slot.set(moved, i);
    }
    // The vacated row keeps nothing of anyone.
    this.clearRow(last);
    this.codes.fill(0, last * CODE_BYTES, (last + 1) * CODE_BYTES);
    this.short.fill(0, last * SHORT_BYTES, (last + 1) * SHORT_BYTES);
    this.rowIds.pop();
    this.slot.delete(id);
    if (last > 0 && (last & (CHUNK - 1)) === 0) {
      this.bytes.pop();
      this.scales.pop();
    }
    return true;
  }

  /** The rows the Hamming stages keep for int8 scoring (at least `want`, ties at the cut included). */
  candidateRows(q: Float32Array, want: number): Uint32Array {
    const n = this.rowIds.length;
    queryCodes(q, this.center, new Uint8Array(this.kernel.memory.buffer));
    const split = QuantizedIndex.threads > 1 && n >= this.splitFrom ? this.shared : undefined;
    return scanCandidates(this.kernel, this.lay, n, want, this.preselect, this.clock, split?.split.bind(split));
  }

  /** The search helper lets go of this index's memory (it still searches, on one thread). */
  close(): void {
    this.shared.close();
  }

  /**
   * Every row that may be among the exact top k at or above the threshold, with its int8 score and
   * that score's error bound, highest score first (possibly more than k: ties within the bound are
   * all kept). The caller re-scores them on exact vectors.
   */
  search(q: Float32Array, k: number, opts: SearchOptions = {}): VectorHit[] {
    const n = this.rowIds.length;
    if (n === 0 || k <= 0) return [];
    const threshold = opts.threshold ?? -Infinity;
    let l1 = 0;
    for (let j = 0; j < DIMS; j++) l1 += Math.abs(q[j]!);
    // Half a quantisation step per component (the sums themselves are float64: rounding is far below the margin).
    const unit = l1 / 2;
    const want = this.candidates(n, k);
    this.clock?.start();
    const cands = n <= want ? Uint32Array.from({ length: n }, (_, r) => r) : this.candidateRows(q, want);
    const { dots, slack } = int8Scores(this.kernel, this.int8Kernel, this.bytes, CHUNK_BITS, cands, q);
    this.clock?.lap('int8');
    const rows: number[] = [];
    const scores: number[] = [];
    const errors: number[] = [];
    // The k best lower bounds seen (ascending); a row whose upper bound is below the k-th cannot be in the top k.
    const lows: number[] = [];
    for (let i = 0; i < cands.length; i++) {
      const r = cands[i]!;
      const s = this.scaleOf(r) * dots[i]!;
      const e = this.scaleOf(r) * (unit + slack) + 1e-6;
      if (s + e < threshold || (lows.length >= k && s + e < lows[0]!)) continue;
      if (opts.filter && !opts.filter(this.rowIds[r]!)) continue;
      rows.push(r);
      scores.push(s);
      errors.push(e);
      const low = s - e;
      if (lows.length < k || low > lows[0]!) {
        let p = 0;
        while (p < lows.length && lows[p]! < low) p++;
        lows.splice(p, 0, low);
        if (lows.length > k) lows.shift();
      }
    }
    const kth = lows.length >= k ? lows[0]! : -Infinity;
    const out: VectorHit[] = [];
    for (let i = 0; i < rows.length; i++)
      if (scores[i]! + errors[i]! >= kth)
        out.push({ id: this.rowIds[rows[i]!]!, score: scores[i]!, error: errors[i]! });
    out.sort((a, b) => b.score - a.score);
    this.clock?.lap('select');
    return out;
  }
}

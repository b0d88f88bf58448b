import { popcountKernel, type PopcountKernel } from './popcount.wasm.js';
import type { SearchOptions, VectorHit, VectorIndex } from './vector-index.js';

const DIMS = 512;
const CODE_BYTES = DIMS / 8;
// Fixed regions at the start of the kernel's memory; the codes follow, the distances after them.
const HIST = 0;
const QUERY = 4096;
const OUT = 8192;
const MAX_OUT = 65536;
const CODES = OUT + MAX_OUT * 4;
const PAGE = 65536;
const CHUNK_BITS = 14;
const CHUNK = 1 << CHUNK_BITS;

/** How many Hamming candidates are re-ranked on float scores, for a gallery of n templates. */
export const defaultCandidates = (n: number, k: number): number =>
  Math.max(4 * k, Math.min(MAX_OUT / 2, Math.max(512, Math.ceil(n / 400))));

/**
 * Quantised exact scan with exact re-ranking. Every template has a 512-bit code: the signs of its
 * components after subtracting a centre (the mean of the gallery when the index was made), which
 * keeps every bit near 50/50 on real embeddings. A search scans every code with SIMD popcount (the
 * Hamming distance tracks the angle), takes the few hundred to few thousand nearest codes and scores
 * those on the float templates: every score returned, and so every decision, is an exact float cosine.
 * Nothing is approximate but which rows get the exact score; bench/scale measures that a real probe's
 * mate is still among them.
 *
 * Memory per template: 64 bytes of code and 2,048 of float vector (plus its id and map entries).
 * Removal moves the last row into the hole and zeroes the vacated code and vector.
 */
export class QuantizedIndex implements VectorIndex {
  readonly dimensions = DIMS;
  private readonly kernel: PopcountKernel;
  private capacity: number;
  private codes!: Uint8Array;
  private readonly floats: Float32Array[] = [];
  private rowIds: string[] = [];
  private readonly slot = new Map<string, number>();
  private readonly center: Float32Array;

  constructor(
    center: Float32Array,
    initialCapacity = CHUNK,
    private readonly candidates: (n: number, k: number) => number = defaultCandidates,
  ) {
    if (center.length !== DIMS) throw new Error(`the quantised index is for ${DIMS} dimensions`);
    this.center = Float32Array.from(center);
    this.capacity = Math.max(CHUNK, initialCapacity);
    this.kernel = popcountKernel(this.pagesFor(this.capacity));
    this.views();
  }

  /** An index centred on the mean of the given vectors. */
  static centredOn(vectors: Iterable<Float32Array>, initialCapacity?: number): QuantizedIndex {
    const mean = new Float64Array(DIMS);
    let n = 0;
    for (const v of vectors) {
      for (let j = 0; j < DIMS; j++) mean[j]! += v[j]!;
      n++;
    }
    return new QuantizedIndex(
      Float32Array.from(mean, (x) => (n ? x / n : 0)),
      initialCapacity,
    );
  }

  private pagesFor(capacity: number): number {
    return Math.ceil((CODES + capacity * (CODE_BYTES + 2)) / PAGE);
  }

  private views(): void {
    this.codes = new Uint8Array(this.kernel.memory.buffer, CODES, this.capacity * CODE_BYTES);
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

  private encode(v: Float32Array, into: Uint8Array, at: number): void {
    const c = this.center;
    for (let b = 0; b < CODE_BYTES; b++) {
      let byte = 0;
      const o = b * 8;
      for (let j = 0; j < 8; j++) if (v[o + j]! > c[o + j]!) byte |= 1 << j;
      into[at + b] = byte;
    }
  }

  private row(r: number): Float32Array {
    const o = (r & (CHUNK - 1)) * DIMS;
    return this.floats[r >> CHUNK_BITS]!.subarray(o, o + DIMS);
  }

  add(id: string, v: Float32Array): void {
    if (v.length !== DIMS) throw new Error(`vector has ${v.length} dimensions, index has ${DIMS}`);
    let r = this.slot.get(id);
    if (r === undefined) {
      r = this.rowIds.length;
      if (r >= this.capacity) {
        this.capacity *= 2;
        this.kernel.memory.grow(this.pagesFor(this.capacity) - this.kernel.memory.buffer.byteLength / PAGE);
        this.views();
      }
      if (r >> CHUNK_BITS >= this.floats.length) this.floats.push(new Float32Array(CHUNK * DIMS));
      this.rowIds.push(id);
      this.slot.set(id, r);
    }
    this.row(r).set(v);
    this.encode(v, this.codes, r * CODE_BYTES);
  }

  remove(id: string): boolean {
    const i = this.slot.get(id);
    if (i === undefined) return false;
    const last = this.rowIds.length - 1;
    if (i !== last) {
      this.row(i).set(this.row(last));
      this.codes.copyWithin(i * CODE_BYTES, last * CODE_BYTES, (last + 1) * CODE_BYTES);
      const moved = this.rowIds[last]!;
      this.rowIds[i] = moved;
      this.slot.set(moved, i);
    }
    // The vacated row keeps nothing of anyone.
    this.row(last).fill(0);
    this.codes.fill(0, last * CODE_BYTES, (last + 1) * CODE_BYTES);
    this.rowIds.pop();
    this.slot.delete(id);
    if (last > 0 && (last & (CHUNK - 1)) === 0) this.floats.pop();
    return true;
  }

  /** The rows the Hamming scan keeps for exact scoring (at least `want`, ties at the cut included). */
  candidateRows(q: Float32Array, want: number): Uint32Array {
    const n = this.rowIds.length;
    const mem = this.kernel.memory.buffer;
    this.encode(q, new Uint8Array(mem, QUERY, CODE_BYTES), 0);
    const hist = new Uint32Array(mem, HIST, DIMS + 1);
    hist.fill(0);
    const dist = CODES + this.capacity * CODE_BYTES;
    this.kernel.scan(CODES, n, QUERY, dist, HIST);
    let cutoff = 0;
    for (let seen = hist[0]!; seen < want && cutoff < DIMS; seen += hist[++cutoff]!);
    const count = this.kernel.collect(dist, n, cutoff, OUT, MAX_OUT);
    return new Uint32Array(mem, OUT, count);
  }

  search(q: Float32Array, k: number, opts: SearchOptions = {}): VectorHit[] {
    const n = this.rowIds.length;
    if (n === 0 || k <= 0) return [];
    const threshold = opts.threshold ?? -Infinity;
    const want = this.candidates(n, k);
    const top: VectorHit[] = [];
    const consider = (r: number) => {
      const s = dot(this.row(r), q);
      if (s < threshold || (top.length >= k && s <= top[top.length - 1]!.score)) return;
      const id = this.rowIds[r]!;
      if (opts.filter && !opts.filter(id)) return;
      let p = top.length;
      while (p > 0 && top[p - 1]!.score < s) p--;
      top.splice(p, 0, { id, score: s });
      if (top.length > k) top.pop();
    };
    if (n <= want) for (let r = 0; r < n; r++) consider(r);
    else for (const r of this.candidateRows(q, want)) consider(r);
    return top;
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let j = 0; j < DIMS; j += 4) {
    s0 += a[j]! * b[j]!;
    s1 += a[j + 1]! * b[j + 1]!;
    s2 += a[j + 2]! * b[j + 2]!;
    s3 += a[j + 3]! * b[j + 3]!;
  }
  return s0 + s1 + s2 + s3;
}

// The exact reference of a gallery too large to hold in float (10M x 512 x 4 B = 20 GB): the rows
// arrive in chunks, each chunk is scored exactly against every probe at once (usearch's exact
// search, a chunk x probes product, inner product on unit vectors) and each probe keeps a running
// top k of global row numbers; the chunk can then be dropped. Equal scores keep the earlier row, as
// one exact search over every row would when its chunks are merged in order.
//
// GemmTopK gives the same answer about 5x faster: a GEMM (onnxruntime's MLAS, matmul-onnx.ts) scores
// every row against every probe, and only the rows that GEMM score leaves within MARGIN of a probe's
// running k-th best are scored again by usearch, whose scores are the ones kept. A GEMM score is within
// 3e-5 of usearch's for unit vectors of 512 float32 components (the sums' rounding), so a row left out
// cannot be in the top k by usearch's score.
import usearch from 'usearch';
import { MatMul } from './matmul-onnx.js';

export interface Ranked {
  readonly row: number;
  readonly score: number;
}

export class StreamingTopK {
  private readonly queries: Float32Array;
  private readonly rows: Int32Array;
  private readonly scores: Float64Array;
  private readonly count: number;

  constructor(
    probes: readonly Float32Array[],
    readonly dims: number,
    readonly k = 1,
  ) {
    this.count = probes.length;
    this.queries = new Float32Array(probes.length * dims);
    probes.forEach((q, i) => this.queries.set(q, i * dims));
    this.rows = new Int32Array(probes.length * k).fill(-1);
    this.scores = new Float64Array(probes.length * k).fill(-Infinity);
  }

  /** Scores `n` rows (`chunk` holds them from its start), whose first is global row `first`. */
  addChunk(chunk: Float32Array, n: number, first: number): void {
    if (n > 0) this.score(chunk, n, (r) => first + r);
  }

  /** Scores rows given with their global numbers (ascending), as addChunk does a contiguous run. */
  addRows(rows: Float32Array, numbers: readonly number[]): void {
    this.score(rows, numbers.length, (r) => numbers[r]!);
  }

  /** usearch's exact top k of each probe among the first `n` rows, offered under their global numbers. */
  private score(rows: Float32Array, n: number, global: (row: number) => number): void {
    const k = Math.min(this.k, n);
    const r = usearch.exactSearch(
      rows.subarray(0, n * this.dims),
      this.queries,
      this.dims,
      k,
      usearch.MetricKind.IP,
      1,
    ) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    for (let i = 0; i < this.count; i++)
      for (let j = 0; j < k; j++) this.offer(i, global(Number(r.keys[i * k + j]!)), 1 - r.distances[i * k + j]!);
  }

  /** Probe i's top k so far, best first (rows -1 where fewer rows were seen). */
  top(i: number): Ranked[] {
    return Array.from({ length: this.k }, (_, j) => ({
      row: this.rows[i * this.k + j]!,
      score: this.scores[i * this.k + j]!,
    }));
  }

  /** Insertion into probe i's sorted list: strictly better scores only, so the earlier row wins a tie. */
  private offer(i: number, row: number, score: number): void {
    const base = i * this.k;
    let at = this.k;
    while (at > 0 && score > this.scores[base + at - 1]!) at--;
    if (at === this.k) return;
    for (let j = this.k - 1; j > at; j--) {
      this.rows[base + j] = this.rows[base + j - 1]!;
      this.scores[base + j] = this.scores[base + j - 1]!;
    }
    this.rows[base + at] = row;
    this.scores[base + at] = score;
  }
}

/** Twice the largest gap between a GEMM score and usearch's for the same pair, with room to spare. */
const MARGIN = 2e-4;
const PIECE = 16384;

export class GemmTopK {
  private readonly exact: StreamingTopK;
  /** Per probe, the k best GEMM scores seen so far (descending). */
  private readonly best: Float32Array;
  private readonly count: number;
  /** Rows scored again by usearch, for the record. */
  rescored = 0;

  private constructor(
    private readonly mm: MatMul,
    probes: readonly Float32Array[],
    readonly dims: number,
    readonly k: number,
  ) {
    this.exact = new StreamingTopK(probes, dims, k);
    this.count = probes.length;
    this.best = new Float32Array(probes.length * k).fill(-Infinity);
  }

  static async create(probes: readonly Float32Array[], dims: number, k = 1): Promise<GemmTopK> {
    const t = new Float32Array(dims * probes.length);
    probes.forEach((q, i) => q.forEach((x, j) => (t[j * probes.length + i] = x)));
    return new GemmTopK(await MatMul.create(t, dims, probes.length), probes, dims, k);
  }

  async addChunk(chunk: Float32Array, n: number, first: number): Promise<void> {
    const [q, k, d] = [this.count, this.k, this.dims];
    for (let s = 0; s < n; s += PIECE) {
      const m = Math.min(PIECE, n - s);
      const y = await this.mm.run(chunk.subarray(s * d, (s + m) * d), m);
      // The k best GEMM scores per probe, this piece included.
      for (let r = 0; r < m; r++)
        for (let i = 0; i < q; i++) {
          const v = y[r * q + i]!;
          if (v > this.best[i * k + k - 1]!) this.insert(i, v);
        }
      // Rows within MARGIN of some probe's k-th best, scored by usearch against every probe.
      const rows: number[] = [];
      for (let r = 0; r < m; r++)
        for (let i = 0; i < q; i++)
          if (y[r * q + i]! >= this.best[i * k + k - 1]! - MARGIN) {
            rows.push(r);
            break;
          }
      if (!rows.length) continue;
      const picked = new Float32Array(rows.length * d);
      rows.forEach((r, j) => picked.set(chunk.subarray((s + r) * d, (s + r + 1) * d), j * d));
      this.exact.addRows(
        picked,
        rows.map((r) => first + s + r),
      );
      this.rescored += rows.length;
    }
  }

  top(i: number): Ranked[] {
    return this.exact.top(i);
  }

  private insert(i: number, v: number): void {
    const base = i * this.k;
    let at = this.k - 1;
    while (at > 0 && v > this.best[base + at - 1]!) {
      this.best[base + at] = this.best[base + at - 1]!;
      at--;
    }
    this.best[base + at] = v;
  }
}

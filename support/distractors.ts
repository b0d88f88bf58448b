// Distractors that follow the measured distribution of real face embeddings. Each one is the mean of
// real embeddings plus a random combination of m real embeddings' deviations from that mean, with
// Gaussian weights of variance 1/m, plus a little isotropic noise, then L2-normalised like a template:
//   x = mean + sum_i z_i (r_i - mean) / sqrt(m) + sigma e,   z, e ~ N(0, 1)
// Its covariance is the sample covariance of the real embeddings (plus sigma^2 I), so probe-to-
// distractor scores have the mean and spread of real impostor scores, at m * 512 multiply-adds per
// sample instead of 512^2 / 2 for a Cholesky factor. The real embeddings must be of people who are
// not among the probes. What it cannot reproduce: look-alikes and relatives, demographic clusters
// beyond the covariance, near-duplicate photos, or the heavier tail real impostor scores may have;
// the scale bench prints both histograms and their 99.9th percentiles.

export interface DistractorModel {
  readonly dims: number;
  readonly mean: Float32Array;
  /** rows x dims: each real embedding minus the mean. */
  readonly deviations: Float32Array;
  readonly rows: number;
  /** Standard deviation of the isotropic noise per component. */
  readonly sigma: number;
}

export function fitDistractors(real: Float32Array, dims: number, sigmaShare = 0.1): DistractorModel {
  const rows = real.length / dims;
  const mean = new Float32Array(dims);
  for (let i = 0; i < rows; i++) for (let j = 0; j < dims; j++) mean[j]! += real[i * dims + j]! / rows;
  const deviations = new Float32Array(real.length);
  let total = 0;
  for (let i = 0; i < real.length; i++) {
    deviations[i] = real[i]! - mean[i % dims]!;
    total += deviations[i]! ** 2;
  }
  // sigma^2 per component is sigmaShare of the average per-component variance (a small shrinkage).
  return { dims, mean, deviations, rows, sigma: Math.sqrt((sigmaShare * total) / rows / dims) };
}

/** Writes `count` distractors into `out` at row `at`. */
export function sampleDistractors(
  model: DistractorModel,
  count: number,
  rng: Gaussian,
  out: Float32Array,
  at = 0,
  m = 24,
): void {
  const d = model.dims;
  const x = new Float32Array(d);
  const w = 1 / Math.sqrt(m);
  for (let i = 0; i < count; i++) {
    for (let j = 0; j < d; j++) x[j] = model.mean[j]! + model.sigma * rng.next();
    for (let t = 0; t < m; t++) {
      const r = Math.floor(rng.uniform() * model.rows) * d;
      const z = rng.next() * w;
      for (let j = 0; j < d; j++) x[j]! += z * model.deviations[r + j]!;
    }
    let norm = 0;
    for (let j = 0; j < d; j++) norm += x[j]! * x[j]!;
    const k = 1 / Math.sqrt(norm);
    const o = (at + i) * d;
    for (let j = 0; j < d; j++) out[o + j] = x[j]! * k;
  }
}

/**
 * Moves `rng` past `count` distractors exactly as sampleDistractors would, without making them (so
 * that several threads can make disjoint parts of one stream). A row draws dims + m normals and m
 * uniforms; when dims + m is even and no normal is pending, that is dims + 2 m draws of 32 bits.
 */
export function skipDistractors(model: DistractorModel, count: number, rng: Gaussian, m = 24): void {
  if ((model.dims + m) % 2 === 0 && rng.pairStart()) rng.skip(count * (model.dims + 2 * m));
  else sampleDistractors(model, count, rng, new Float32Array(count * model.dims), 0, m);
}

/** A seeded generator (sfc32 with Box-Muller), so a gallery can be rebuilt identically. */
export class Gaussian {
  private a: number;
  private b: number;
  private c: number;
  private d = 1;
  private spare: number | null = null;
  constructor(seed: number) {
    this.a = 0x9e3779b9;
    this.b = 0x243f6a88;
    this.c = seed >>> 0;
    for (let i = 0; i < 15; i++) this.uint();
  }
  /**
   * Writes the state (4 int32 words) at `out[at..at + 4)`, so that `Gaussian.resume` continues the
   * stream from here. Only between pairs of normals: sampleDistractors draws an even number per row,
   * so every row starts at such a point and one row can be made again on its own.
   */
  saveTo(out: Int32Array, at: number): void {
    if (this.spare !== null) throw new Error('a Gaussian stream can be saved only between pairs of normals');
    out[at] = this.a;
    out[at + 1] = this.b;
    out[at + 2] = this.c;
    out[at + 3] = this.d;
  }

  /** No normal is pending (the stream is between pairs of normals). */
  pairStart(): boolean {
    return this.spare === null;
  }

  /** Skips n draws of 32 bits (what `uniform` takes once and `next` twice a pair). */
  skip(n: number): void {
    for (let i = 0; i < n; i++) this.uint();
  }

  /** The stream saved by `saveTo` at `at`. */
  static resume(state: Int32Array, at: number): Gaussian {
    const g = new Gaussian(0);
    g.a = state[at]!;
    g.b = state[at + 1]!;
    g.c = state[at + 2]!;
    g.d = state[at + 3]!;
    return g;
  }

  private uint(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }
  uniform(): number {
    return (this.uint() + 0.5) / 4294967296;
  }
  next(): number {
    if (this.spare !== null) {
      const s = this.spare;
      this.spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(this.uniform()));
    const t = 2 * Math.PI * this.uniform();
    this.spare = r * Math.sin(t);
    return r * Math.cos(t);
  }
}

/**
 * The open-set decision rule of 1:N identification (pure: no engine, no store).
 *
 * A 1:1 threshold is the wrong one for 1:N: a stranger is "identified" when any of the N templates
 * searched scores above the threshold, and that grows with N. The rule instead takes a target
 * false-positive identification rate (FPIR: the chance a person who is not in the gallery is
 * returned) and the number of templates searched, and asks the model's fitted impostor tail for the
 * threshold whose per-comparison false-match rate is FPIR / N.
 *
 * FPIR / N comes from the union bound P(max_i S_i >= t) <= sum_i P(S_i >= t) = N p(t), which holds
 * whether or not the N comparisons are independent: several templates of one person, or near
 * duplicates, make the comparisons positively correlated, and then the observed FPIR is below the
 * target, never above it (docs/accuracy.md measures how far below). What the bound cannot fix is a
 * probe population unlike the one the tail was fitted on (relatives, a gallery of look-alikes):
 * p(t) itself is then wrong, which is why the tail is refitted per model and its data published.
 */

/** Generalised Pareto fit of the upper tail of a model's impostor (different-person) cosine scores. */
export interface ImpostorTail {
  /** The model the scores came from: a tail never applies to another model's scores. */
  readonly model: string;
  /** Scores above u are modelled by the tail; u is a high quantile of the impostor scores. */
  readonly u: number;
  /** P(S > u) among impostor comparisons. */
  readonly zeta: number;
  /** GPD shape (negative: a bounded tail, as cosine scores are) and scale of the exceedances S - u. */
  readonly xi: number;
  readonly sigma: number;
  /** Comparisons the fit was made on, for the record. */
  readonly comparisons: number;
}

/** FPIR a purpose may ask for: stricter than 1e-4 leaves little to find, looser than 5% is not identification. */
export const FPIR_LIMITS = { min: 1e-4, max: 0.05, default: 0.01 } as const;

/** Fits the tail above the `quantile` of the impostor scores (method of moments on the exceedances). */
export function fitImpostorTail(model: string, impostor: ArrayLike<number>, quantile = 0.999): ImpostorTail {
  const n = impostor.length;
  if (n < 1000) throw new Error('an impostor tail needs at least 1,000 comparisons');
  const sorted = Float64Array.from(impostor).sort();
  const at = Math.min(n - 50, Math.floor(quantile * n));
  const u = sorted[at]!;
  let m = 0;
  let k = 0;
  for (let i = at + 1; i < n; i++) {
    if (sorted[i]! <= u) continue;
    m += sorted[i]! - u;
    k++;
  }
  m /= k;
  let v = 0;
  for (let i = at + 1; i < n; i++) if (sorted[i]! > u) v += (sorted[i]! - u - m) ** 2;
  v /= Math.max(1, k - 1);
  const xi = 0.5 * (1 - (m * m) / v);
  const sigma = 0.5 * m * ((m * m) / v + 1);
  return { model, u, zeta: k / n, xi, sigma, comparisons: n };
}

/** Per-comparison false-match rate: the chance a different person scores >= s against one template. */
export function comparisonFmr(tail: ImpostorTail, s: number): number {
  if (s <= tail.u) return Math.min(1, tail.zeta * Math.max(1, tailRatio(tail, s)));
  return tail.zeta * tailRatio(tail, s);
}

function tailRatio(t: ImpostorTail, s: number): number {
  const y = s - t.u;
  if (Math.abs(t.xi) < 1e-9) return Math.exp(-y / t.sigma);
  const base = 1 + (t.xi * y) / t.sigma;
  return base <= 0 ? 0 : base ** (-1 / t.xi);
}

/** The lowest score whose per-comparison false-match rate is at most p. */
export function thresholdForFmr(tail: ImpostorTail, p: number): number {
  if (!(p > 0)) throw new Error('a false-match rate must be positive');
  if (p >= tail.zeta) return tail.u;
  const r = p / tail.zeta;
  if (Math.abs(tail.xi) < 1e-9) return tail.u - tail.sigma * Math.log(r);
  return tail.u + (tail.sigma / tail.xi) * (r ** -tail.xi - 1);
}

export interface OpenSetInput {
  /** Matchable templates the search compares the probe with (0 and 1 count as 1). */
  readonly gallerySize: number;
  /** Target false-positive identification rate, within FPIR_LIMITS. */
  readonly fpir: number;
  readonly tail: ImpostorTail;
  /** Never below this (the model's 1:1 threshold): identification is never looser than verification. */
  readonly minimum: number;
}

/** The decision threshold of one identification, rounded up to 1e-4 (the published number is the one used). */
export function openSetThreshold(i: OpenSetInput): number {
  if (!(i.fpir >= FPIR_LIMITS.min && i.fpir <= FPIR_LIMITS.max))
    throw new Error(`FPIR must be within ${FPIR_LIMITS.min} and ${FPIR_LIMITS.max}`);
  const t = thresholdForFmr(i.tail, i.fpir / Math.max(1, i.gallerySize));
  return Math.max(i.minimum, Math.ceil(t * 1e4) / 1e4);
}

/**
 * The chance that a person not in the gallery scores >= s against at least one of `gallerySize`
 * templates (union bound, so an upper estimate): the false-match rate of a candidate at that score.
 */
export function galleryFmr(tail: ImpostorTail, s: number, gallerySize: number): number {
  return Math.min(1, Math.max(1, gallerySize) * comparisonFmr(tail, s));
}

/**
 * Threshold calibration from labelled genuine (same person) and impostor (different people) scores.
 * Pure functions: the CLI and the tests feed them scores measured with the real engine.
 */

export interface RatesAt {
  readonly threshold: number;
  /** False-match rate: impostor pairs scoring >= threshold. */
  readonly fmr: number;
  /** False-non-match rate: genuine pairs scoring < threshold. */
  readonly fnmr: number;
}

export interface Calibration {
  readonly model: string;
  readonly genuinePairs: number;
  readonly impostorPairs: number;
  readonly auc: number;
  /** Equal error rate and where it occurs. */
  readonly eer: RatesAt;
  readonly targetFmr: number;
  /** The chosen operating point: the lowest threshold whose FMR (measured, and fitted tail) <= target. */
  readonly operatingPoint: RatesAt;
  /** Normal fit of the impostor scores, used to estimate FMR beyond what the sample can show. */
  readonly impostorMean: number;
  readonly impostorStd: number;
}

export function ratesAt(genuine: readonly number[], impostor: readonly number[], threshold: number): RatesAt {
  const fm = impostor.filter((s) => s >= threshold).length;
  const fnm = genuine.filter((s) => s < threshold).length;
  return {
    threshold,
    fmr: impostor.length ? fm / impostor.length : 0,
    fnmr: genuine.length ? fnm / genuine.length : 0,
  };
}

/** ROC AUC as the probability that a random genuine score exceeds a random impostor score (ties 1/2). */
export function rocAuc(genuine: ArrayLike<number>, impostor: ArrayLike<number>): number {
  if (!genuine.length || !impostor.length) return Number.NaN;
  const g = Float64Array.from(genuine).sort();
  const im = Float64Array.from(impostor).sort();
  // Mann-Whitney U: for each genuine score, the impostors below it, ties counted as halves.
  let u = 0;
  let below = 0;
  let upTo = 0;
  for (const s of g) {
    while (below < im.length && im[below]! < s) below++;
    upTo = Math.max(upTo, below);
    while (upTo < im.length && im[upTo]! <= s) upTo++;
    u += below + (upTo - below) / 2;
  }
  return u / (g.length * im.length);
}

function meanStd(xs: Float64Array): [number, number] {
  let m = 0;
  for (const x of xs) m += x;
  m /= xs.length;
  let v = 0;
  for (const x of xs) v += (x - m) ** 2;
  return [m, Math.sqrt(v / Math.max(1, xs.length - 1))];
}

/** Upper tail of the standard normal, P(Z >= z) (Abramowitz-Stegun 7.1.26 via erfc). */
export function normalTail(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const erfc =
    t *
    (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))) *
    Math.exp(-x * x);
  return z >= 0 ? erfc / 2 : 1 - erfc / 2;
}

/** Estimated probability that a different person scores >= s (fitted impostor tail). */
export function estimatedFmr(cal: Pick<Calibration, 'impostorMean' | 'impostorStd'>, score: number): number {
  return normalTail((score - cal.impostorMean) / cal.impostorStd);
}

/** How many of the ascending `sorted` are < t (binary search). */
function countBelow(sorted: Float64Array, t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]! < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The 1:1 operating point. Sorts once and counts by binary search, so a calibration set of millions of
 * pairs (what a trustworthy impostor tail needs: calibration-set.ts) takes seconds, not hours.
 */
export function calibrate(
  model: string,
  genuine: ArrayLike<number>,
  impostor: ArrayLike<number>,
  targetFmr: number,
): Calibration {
  if (!genuine.length || !impostor.length) throw new Error('calibration needs genuine and impostor pairs');
  const g = Float64Array.from(genuine).sort();
  const im = Float64Array.from(impostor).sort();
  const [impostorMean, impostorStd] = meanStd(im);
  const at = (threshold: number): RatesAt => ({
    threshold,
    fmr: (im.length - countBelow(im, threshold)) / im.length,
    fnmr: countBelow(g, threshold) / g.length,
  });
  // Every distinct score is a candidate: merged from the two sorted arrays, each seen once.
  let eer: RatesAt = at(Math.min(g[0]!, im[0]!));
  let best = Infinity;
  for (let i = 0, j = 0, last = Number.NaN; i < g.length || j < im.length;) {
    const t = j >= im.length || (i < g.length && g[i]! <= im[j]!) ? g[i++]! : im[j++]!;
    if (t === last) continue;
    last = t;
    const r = at(t);
    const gap = Math.abs(r.fmr - r.fnmr);
    if (gap < best) {
      best = gap;
      eer = r;
    }
  }
  // A sample of n impostors cannot show an FMR below 1/n, so the threshold must also satisfy the
  // fitted tail; rounded up to 0.01 so the published number is the one used.
  let t = -1;
  for (let step = -100; step <= 100; step++) {
    t = step / 100;
    if (at(t).fmr <= targetFmr && estimatedFmr({ impostorMean, impostorStd }, t) <= targetFmr) break;
  }
  return {
    model,
    genuinePairs: g.length,
    impostorPairs: im.length,
    auc: rocAuc(g, im),
    eer,
    targetFmr,
    operatingPoint: at(t),
    impostorMean,
    impostorStd,
  };
}

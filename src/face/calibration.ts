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
export function rocAuc(genuine: readonly number[], impostor: readonly number[]): number {
  if (!genuine.length || !impostor.length) return Number.NaN;
  const all = [...genuine.map((s) => ({ s, g: 1 })), ...impostor.map((s) => ({ s, g: 0 }))].sort((a, b) => a.s - b.s);
  // Mann-Whitney U with average ranks for ties.
  let rankSumG = 0;
  for (let i = 0; i < all.length;) {
    let j = i;
    while (j < all.length && all[j]!.s === all[i]!.s) j++;
    const avgRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (all[k]!.g) rankSumG += avgRank;
    i = j;
  }
  const u = rankSumG - (genuine.length * (genuine.length + 1)) / 2;
  return u / (genuine.length * impostor.length);
}

function meanStd(xs: readonly number[]): [number, number] {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / Math.max(1, xs.length - 1);
  return [m, Math.sqrt(v)];
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

export function calibrate(
  model: string,
  genuine: readonly number[],
  impostor: readonly number[],
  targetFmr: number,
): Calibration {
  if (!genuine.length || !impostor.length) throw new Error('calibration needs genuine and impostor pairs');
  const [impostorMean, impostorStd] = meanStd(impostor);
  const candidates = [...new Set([...genuine, ...impostor])].sort((a, b) => a - b);
  let eer: RatesAt = ratesAt(genuine, impostor, candidates[0]!);
  let best = Infinity;
  for (const t of candidates) {
    const r = ratesAt(genuine, impostor, t);
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
    if (ratesAt(genuine, impostor, t).fmr <= targetFmr && estimatedFmr({ impostorMean, impostorStd }, t) <= targetFmr)
      break;
  }
  return {
    model,
    genuinePairs: genuine.length,
    impostorPairs: impostor.length,
    auc: rocAuc(genuine, impostor),
    eer,
    targetFmr,
    operatingPoint: ratesAt(genuine, impostor, t),
    impostorMean,
    impostorStd,
  };
}

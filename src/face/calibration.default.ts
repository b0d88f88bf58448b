import { MODELS } from './models.js';
import type { ImpostorTail } from '../gallery/open-set.js';

/**
 * The default operating point of the embedder, measured with `npm run accuracy` on the 3,166
 * labelled pairs of ../shared/faces (docs/accuracy.md has the table). A different model id means
 * these numbers do not apply and the engine must be re-calibrated (`veil faces calibrate`).
 */
export const DEFAULT_CALIBRATION = {
  model: MODELS.embedder.id,
  /** Match threshold for search and 1:1 verification: measured FMR <= 1e-3 on the shared pairs. */
  threshold: 0.41,
  /** The FMR measured at that threshold: 2 of 2,795 different-person pairs (docs/accuracy.md). */
  fmr: 0.0007,
  /** Stricter threshold for identity proof in rights requests: FMR ~1e-6 by the normal fit below, ~1e-5 by the lfw-dev tail. */
  strictThreshold: 0.48,
  /** Normal fit of impostor (different-person) cosine scores, for per-score false-match estimates. */
  impostorMean: 0.0156,
  impostorStd: 0.0971,
} as const;

/**
 * The upper tail of the embedder's impostor scores (generalised Pareto above the 99.9th percentile),
 * fitted by `npm run accuracy` on every cross-identity pair of lfw-dev's 3,147 photos with the
 * two-pass landmarks: the open-set rule derives each identification's threshold from it
 * (src/gallery/open-set.ts; fit, data and held-out check in docs/accuracy.md).
 */
export const DEFAULT_IMPOSTOR_TAIL: ImpostorTail = {
  model: MODELS.embedder.id,
  u: 0.3365,
  zeta: 9.999e-4,
  xi: -0.0504,
  sigma: 0.0352,
  comparisons: 4_947_281,
};

/** What DEFAULT_IMPOSTOR_TAIL was fitted on (docs/accuracy.md, "The open-set decision rule"). */
export const DEFAULT_TAIL_FITTED_ON = {
  dataset: 'lfw-dev (LFW View 2 folds 7-10)',
  identities: 1_776,
  photos: 3_147,
  impostorPairs: 4_947_281,
  at: '2026-12-01',
} as const;

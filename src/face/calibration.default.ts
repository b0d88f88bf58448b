import { MODELS } from './models.js';

/**
 * The default operating point of the embedder, measured with `npm run accuracy` on the 3,166
 * labelled pairs of ../shared/faces (docs/accuracy.md has the table). A different model id means
 * these numbers do not apply and the engine must be re-calibrated (`veil faces calibrate`).
 */
export const DEFAULT_CALIBRATION = {
  model: MODELS.embedder.id,
  /** Match threshold for search and 1:1 verification: measured FMR <= 1e-3 on the shared pairs. */
  threshold: 0.41,
  /** Stricter threshold for identity proof in rights requests: fitted impostor tail FMR ~1e-6. */
  strictThreshold: 0.48,
  /** Normal fit of impostor (different-person) cosine scores, for per-score false-match estimates. */
  impostorMean: 0.0156,
  impostorStd: 0.0971,
} as const;

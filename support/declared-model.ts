import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../src/face/calibration.default.js';
import { DEFAULT_MODELS_DIR } from '../src/face/models.js';
import {
  EmbedderDeclarationSchema,
  SHIPPED_EMBEDDER,
  type EmbedderDeclaration,
} from '../src/face/model-declaration.js';
import { saveCalibration, type StoredTail } from '../src/face/model-calibration.js';
import type { ImpostorTail } from '../src/gallery/open-set.js';
import { REPO } from './faces.js';

/** The data a test tail claims to be fitted on (tests write calibrations; they do not fit them). */
export const TEST_FIT = { dataset: 'test', identities: 400, photos: 800, impostorPairs: 319_400, at: '2026-01-01' };

/**
 * A calibration of `decl` kept beside its file, as `veil faces calibrate --model --save` keeps it:
 * `tail: null` writes one of the older files, made before tails were stored.
 */
export function saveTestCalibration(
  decl: EmbedderDeclaration,
  opts: { threshold?: number; tail?: Omit<ImpostorTail, 'model'> | null } = {},
): string {
  const point = { threshold: opts.threshold ?? DEFAULT_CALIBRATION.threshold, fmr: 1e-3, fnmr: 0 };
  const tail: StoredTail | null =
    opts.tail === null ? null : { ...(opts.tail ?? DEFAULT_IMPOSTOR_TAIL), model: decl.id, fittedOn: TEST_FIT };
  return saveCalibration(decl, DEFAULT_MODELS_DIR, {
    ...{ model: decl.id, genuinePairs: 1, impostorPairs: 1, auc: 1, eer: point, targetFmr: 1e-3 },
    ...{ operatingPoint: point, impostorMean: DEFAULT_CALIBRATION.impostorMean },
    ...{ impostorStd: DEFAULT_CALIBRATION.impostorStd, sha256: decl.sha256 },
    ...{ dataset: 'test', images: 2, at: '2026-01-01T00:00:00.000Z' },
    ...(tail ? { tail } : {}),
  });
}

/**
 * The shipped embedder's file copied into `dir` and declared under another id: its vectors equal the
 * shipped model's, so whatever differs in what it decides comes from its calibration and id alone.
 */
export function twinModel(dir: string, id = 'twin@1'): EmbedderDeclaration {
  const file = join(dir, 'twin.onnx');
  copyFileSync(join(REPO, 'models', 'fr_feature.onnx'), file);
  const sha256 = JSON.parse(readFileSync(join(REPO, 'models', 'MANIFEST.json'), 'utf8'))['fr_feature.onnx'];
  return EmbedderDeclarationSchema.parse({ ...SHIPPED_EMBEDDER, id, file, sha256 });
}

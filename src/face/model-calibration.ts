import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { VeilError } from '../errors.js';
import type { Calibration } from './calibration.js';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL, DEFAULT_TAIL_FITTED_ON } from './calibration.default.js';
import { activeEmbedder, modelSpec, SHIPPED_EMBEDDER, type EmbedderDeclaration } from './model-declaration.js';
import { DEFAULT_MODELS_DIR } from './models.js';
import { thresholdForFmr } from '../gallery/open-set.js';

/**
 * What every decision of the active embedder is taken with: its 1:1 threshold, its identity-proof
 * threshold, the normal fit of its impostor scores, and the impostor tail the open-set rule reads.
 * `modelCalibration()` is the one place that resolves it; nothing else reads the shipped defaults.
 */
export interface ModelCalibration {
  readonly model: string;
  /** 1:1 verification, and the floor of every identification. */
  readonly threshold: number;
  /** The false-match rate measured at `threshold` on the calibration set (told to people in access exports). */
  readonly fmr: number;
  /** The length of the model's templates (its declaration's), for what people are told. */
  readonly dimensions: number;
  /** Where a face is an identity proof (rights requests, the portal). */
  readonly strictThreshold: number;
  readonly impostorMean: number;
  readonly impostorStd: number;
  /** With the data it was fitted on, published with the status of the models (veil faces status). */
  readonly tail: StoredTail;
}

/**
 * The per-comparison false-match rate of the identity-proof threshold of a declared model. The shipped
 * model's published 0.48 sits at 1e-5 on its own lfw-dev tail (0.4812): a declared model is held to the
 * same rate on its own tail, rounded up to 0.01, and never below its 1:1 threshold.
 */
export const STRICT_FMR = 1e-5;

const TailSchema = z.object({
  model: z.string(),
  u: z.number(),
  zeta: z.number().positive(),
  xi: z.number(),
  sigma: z.number().positive(),
  comparisons: z.number().int().positive(),
  /** The data the tail was fitted on, for the record (docs/accuracy.md: who may trust it). */
  fittedOn: z.object({
    dataset: z.string(),
    identities: z.number().int().positive(),
    photos: z.number().int().positive(),
    impostorPairs: z.number().int().positive(),
    at: z.string(),
  }),
});

export type StoredTail = z.output<typeof TailSchema>;

/** A calibration kept beside the model file, valid only for that file (hash) and that declaration's id. */
export interface StoredCalibration extends Calibration {
  readonly sha256: string;
  readonly dataset: string;
  readonly images: number;
  readonly at: string;
  /** Absent from calibrations made before tails were stored: such a file is refused. */
  readonly tail?: StoredTail;
}

export function calibrationPath(d: EmbedderDeclaration, modelsDir: string): string {
  const { dir } = modelSpec(d, modelsDir);
  return join(dir, `${d.id.replace(/[^A-Za-z0-9._-]/g, '_')}.calibration.json`);
}

export function saveCalibration(d: EmbedderDeclaration, modelsDir: string, c: StoredCalibration): string {
  const path = calibrationPath(d, modelsDir);
  writeFileSync(path, JSON.stringify(c, null, 2) + '\n');
  return path;
}

const SHIPPED: ModelCalibration = {
  ...DEFAULT_CALIBRATION,
  dimensions: SHIPPED_EMBEDDER.outputDimensions,
  tail: { ...DEFAULT_IMPOSTOR_TAIL, fittedOn: DEFAULT_TAIL_FITTED_ON },
};

/** What modelCalibration() reads from a kept file: a truncated or hand-broken one is refused, not half-used. */
const StoredSchema = z.object({
  model: z.string(),
  sha256: z.string(),
  operatingPoint: z.object({ threshold: z.number().min(-1).max(1), fmr: z.number().min(0).max(1) }),
  impostorMean: z.number(),
  impostorStd: z.number().positive(),
  tail: z.unknown().optional(),
});

function readStored(path: string): z.output<typeof StoredSchema> | 'unreadable' {
  try {
    const r = StoredSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return r.success ? r.data : 'unreadable';
  } catch {
    return 'unreadable';
  }
}

/**
 * The calibration of the active embedder: the shipped one's is measured and published
 * (calibration.default.ts); a declared one's must have been made by `veil faces calibrate --model`
 * for this very file, tail included, or nothing may be searched with it.
 */
export function modelCalibration(d: EmbedderDeclaration, modelsDir: string): ModelCalibration {
  if (d.id === SHIPPED_EMBEDDER.id && d.sha256 === SHIPPED_EMBEDDER.sha256) return SHIPPED;
  const path = calibrationPath(d, modelsDir);
  const rerun = `run 'veil faces calibrate <dir> --model ${d.id} --save'`;
  const stored = existsSync(path) ? readStored(path) : null;
  if (stored === 'unreadable')
    throw new VeilError(
      'MODEL_UNCALIBRATED',
      `The calibration of embedder '${d.id}' (${path}) cannot be read: ${rerun}.`,
    );
  if (!stored || stored.model !== d.id || stored.sha256 !== d.sha256)
    throw new VeilError('MODEL_UNCALIBRATED', `Embedder '${d.id}' has no calibration for this file: ${rerun} first.`);
  const tail = TailSchema.safeParse(stored.tail);
  if (!tail.success || tail.data.model !== d.id)
    throw new VeilError(
      'MODEL_UNCALIBRATED',
      `The calibration of embedder '${d.id}' (${path}) holds no impostor tail for it (made before tails were stored), so its identifications would follow another model's numbers: ${rerun} again.`,
    );
  const threshold = stored.operatingPoint.threshold;
  return {
    model: stored.model,
    threshold,
    fmr: stored.operatingPoint.fmr,
    dimensions: d.outputDimensions,
    strictThreshold: Math.max(threshold, Math.ceil(thresholdForFmr(tail.data, STRICT_FMR) * 100) / 100),
    impostorMean: stored.impostorMean,
    impostorStd: stored.impostorStd,
    tail: tail.data,
  };
}

/**
 * The active embedder (VEIL_EMBEDDER: the shipped one, or a declared one) and its calibration, resolved
 * at start-up: a declared model without a calibration of its own, tail included, is refused.
 */
export function activeModel(
  engine: { readonly embedders: readonly EmbedderDeclaration[]; readonly embedder?: string | undefined },
  modelsDir = DEFAULT_MODELS_DIR,
): { model: EmbedderDeclaration; shipped: boolean; calibration: ModelCalibration } {
  const model = activeEmbedder(engine.embedders, engine.embedder);
  return { model, shipped: model === SHIPPED_EMBEDDER, calibration: modelCalibration(model, modelsDir) };
}

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { VeilError } from '../errors.js';
import { flushTinyWeights } from './tiny-weights.js';

/** Where `scripts/fetch-models.mjs` (run by `npm ci`) puts the weights. */
export const DEFAULT_MODELS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'models');

export interface ModelSpec {
  /** Stable id recorded with every template: a model change is a re-enrollment, never a silent mix. */
  readonly id: string;
  readonly file: string;
  readonly sha256: string;
  readonly npmPackage: string;
}

export const MODELS = {
  detector: {
    id: 'faceplugin-fr_detect@0.0.1',
    file: 'fr_detect.onnx',
    sha256: '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854',
    npmPackage: 'faceplugin-face-recognition-js@0.0.1',
  },
  landmarks: {
    id: 'faceplugin-fr_landmark@0.0.1',
    file: 'fr_landmark.onnx',
    sha256: 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258',
    npmPackage: 'faceplugin-face-recognition-js@0.0.1',
  },
  embedder: {
    id: 'faceplugin-fr_feature@0.0.1',
    file: 'fr_feature.onnx',
    sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581',
    npmPackage: 'faceplugin-face-recognition-js@0.0.1',
  },
} as const satisfies Record<string, ModelSpec>;

export interface SessionOptions {
  /** Threads inside one inference; parallelism across requests comes from worker threads instead. */
  readonly intraOpThreads: number;
  /** Zero float weights below this magnitude before loading (src/face/tiny-weights.ts); 0 or unset: none. */
  readonly flushWeightsBelow?: number;
}

/** Loads a model file from disk after checking its hash; never fetches anything. */
export async function loadSession(dir: string, spec: ModelSpec, opts: SessionOptions): Promise<ort.InferenceSession> {
  const path = join(dir, spec.file);
  if (!existsSync(path)) {
    throw new VeilError(
      'MODEL_MISSING',
      `Model file ${spec.file} is missing from ${dir}; run 'npm ci' (or 'node scripts/fetch-models.mjs') to install it.`,
    );
  }
  const bytes = readFileSync(path);
  const digest = createHash('sha256').update(bytes).digest('hex');
  if (digest !== spec.sha256) {
    throw new VeilError('MODEL_CORRUPT', `Model file ${spec.file} does not match its expected SHA-256; reinstall it.`);
  }
  const weights = opts.flushWeightsBelow ? flushTinyWeights(bytes, opts.flushWeightsBelow).bytes : bytes;
  return ort.InferenceSession.create(weights, {
    intraOpNumThreads: opts.intraOpThreads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

export { ort };

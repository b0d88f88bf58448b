import type { Box } from '../face/geometry.js';
import type { FivePoints } from '../face/landmarks.js';
import type { FaceQuality } from '../face/quality.js';
import { round5 } from './similarity.js';
import type { ServedPlugin } from './lenient.js';

/** A face as CompreFace describes one: integer box corners, the detector's probability, plugins asked for. */
export interface CompreFaceFace {
  box: { probability: number; x_max: number; y_max: number; x_min: number; y_min: number };
  landmarks?: number[][];
  pose?: { pitch: number; roll: number; yaw: number };
  execution_time?: Record<string, number>;
}

export interface FaceIn {
  readonly box: Box;
  readonly score: number;
  readonly landmarks: FivePoints;
  readonly quality: FaceQuality;
}

const r2 = (x: number) => Math.round(x * 100) / 100;

export function shapeFace(f: FaceIn, plugins: ReadonlySet<ServedPlugin>, ms?: number): CompreFaceFace {
  const out: CompreFaceFace = {
    box: {
      probability: round5(f.score),
      x_max: Math.round(f.box.x + f.box.width),
      y_max: Math.round(f.box.y + f.box.height),
      x_min: Math.max(0, Math.round(f.box.x)),
      y_min: Math.max(0, Math.round(f.box.y)),
    },
  };
  if (plugins.has('landmarks')) out.landmarks = f.landmarks.map((p) => [Math.round(p.x), Math.round(p.y)]);
  if (plugins.has('pose')) out.pose = { pitch: r2(f.quality.pitch), roll: r2(f.quality.roll), yaw: r2(f.quality.yaw) };
  if (ms !== undefined)
    out.execution_time = { detector: Math.round(ms), ...(plugins.size ? pluginTimes(plugins) : {}) };
  return out;
}

/** The plugins' own time is part of the detector pass in Veil: reported as 0 so clients find the keys. */
function pluginTimes(plugins: ReadonlySet<ServedPlugin>): Record<string, number> {
  return Object.fromEntries([...plugins].map((p) => [p, 0]));
}

/** `plugins_versions` with `status=true`: what answered, never a calculator (embeddings are not served). */
export function pluginVersions(model: string, plugins: ReadonlySet<ServedPlugin>): Record<string, string> {
  return {
    detector: 'veil.FaceDetector',
    ...(plugins.has('landmarks') ? { landmarks: 'veil.FivePointLandmarks' } : {}),
    ...(plugins.has('pose') ? { pose: 'veil.LandmarkPose' } : {}),
    recognizer: model,
  };
}

/** The faces CompreFace's `limit` and `det_prob_threshold` keep: the largest first, `limit` 0 for all. */
export function keepFaces<F extends { box: Box; score: number }>(
  faces: readonly F[],
  limit?: number,
  minScore = 0,
): F[] {
  const sorted = faces
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.score >= minScore)
    .sort((a, b) => b.f.box.width * b.f.box.height - a.f.box.width * a.f.box.height || a.i - b.i)
    .map(({ f }) => f);
  return limit && limit > 0 ? sorted.slice(0, limit) : sorted;
}

import type { Box } from './geometry.js';
import type { FivePoints } from './landmarks.js';
import type { RgbImage } from './image.js';

export interface FaceQuality {
  /** Face box height in pixels of the original photo. */
  readonly faceSize: number;
  /** Distance between the eye centres in pixels of the original photo. */
  readonly eyeDistance: number;
  readonly detectorScore: number;
  /** Variance of the Laplacian on the aligned grey crop: low means blurred. */
  readonly sharpness: number;
  /** Rough pose from landmark geometry, degrees. */
  readonly yaw: number;
  readonly roll: number;
  readonly pitch: number;
}

export interface QualityPolicy {
  readonly minFaceSize: number;
  readonly minEyeDistance: number;
  readonly minDetectorScore: number;
  readonly minSharpness: number;
  readonly maxAbsYaw: number;
  readonly maxAbsRoll: number;
  readonly maxAbsPitch: number;
}

/** Enrollment minimums; identification of probes is looser (any detected face is searchable). */
export const DEFAULT_ENROLLMENT_POLICY: QualityPolicy = {
  minFaceSize: 64,
  minEyeDistance: 24,
  minDetectorScore: 0.8,
  minSharpness: 60,
  maxAbsYaw: 40,
  maxAbsRoll: 30,
  maxAbsPitch: 35,
};

export type QualityReason =
  'FACE_TOO_SMALL' | 'EYES_TOO_CLOSE' | 'LOW_DETECTOR_SCORE' | 'TOO_BLURRY' | 'TURNED_AWAY' | 'TILTED' | 'PITCHED';

export interface QualityVerdict {
  readonly acceptable: boolean;
  readonly reasons: readonly { code: QualityReason; message: string }[];
}

export function assessQuality(q: FaceQuality, p: QualityPolicy = DEFAULT_ENROLLMENT_POLICY): QualityVerdict {
  const reasons: { code: QualityReason; message: string }[] = [];
  if (q.faceSize < p.minFaceSize)
    reasons.push({
      code: 'FACE_TOO_SMALL',
      message: `The face is ${Math.round(q.faceSize)} px tall; at least ${p.minFaceSize} px is needed.`,
    });
  if (q.eyeDistance < p.minEyeDistance)
    reasons.push({
      code: 'EYES_TOO_CLOSE',
      message: `The eyes are ${Math.round(q.eyeDistance)} px apart; at least ${p.minEyeDistance} px is needed.`,
    });
  if (q.detectorScore < p.minDetectorScore)
    reasons.push({
      code: 'LOW_DETECTOR_SCORE',
      message: `The face was detected with confidence ${q.detectorScore.toFixed(2)}; at least ${p.minDetectorScore} is needed.`,
    });
  if (q.sharpness < p.minSharpness)
    reasons.push({
      code: 'TOO_BLURRY',
      message: `The face is too blurred (sharpness ${q.sharpness.toFixed(0)}, minimum ${p.minSharpness}).`,
    });
  if (Math.abs(q.yaw) > p.maxAbsYaw)
    reasons.push({
      code: 'TURNED_AWAY',
      message: `The head is turned about ${Math.round(Math.abs(q.yaw))} degrees; face the camera.`,
    });
  if (Math.abs(q.roll) > p.maxAbsRoll)
    reasons.push({
      code: 'TILTED',
      message: `The head is tilted about ${Math.round(Math.abs(q.roll))} degrees; hold it upright.`,
    });
  if (Math.abs(q.pitch) > p.maxAbsPitch)
    reasons.push({
      code: 'PITCHED',
      message: `The head is tipped up or down about ${Math.round(Math.abs(q.pitch))} degrees.`,
    });
  return { acceptable: reasons.length === 0, reasons };
}

/** Variance of the 4-neighbour Laplacian of the grey image. */
export function laplacianVariance(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = 0.299 * data[i * 3]! + 0.587 * data[i * 3 + 1]! + 0.114 * data[i * 3 + 2]!;
  let sum = 0,
    sq = 0,
    n = 0;
  // Skip a margin: the aligned crop's black borders would count as edges.
  const m = Math.round(w * 0.15);
  for (let y = m; y < h - m; y++) {
    for (let x = m; x < w - m; x++) {
      const i = y * w + x;
      const l = g[i - 1]! + g[i + 1]! + g[i - w]! + g[i + w]! - 4 * g[i]!;
      sum += l;
      sq += l * l;
      n++;
    }
  }
  const mu = sum / n;
  return sq / n - mu * mu;
}

const deg = (r: number): number => (r * 180) / Math.PI;

/**
 * Pose from the five points: roll from the eye line; yaw from where the nose sits between the eyes;
 * pitch from the nose's height between the eye line and the mouth line. Rough by design: enough to
 * tell a frontal face from a profile, not a head-pose estimator.
 */
export function poseFromPoints(p: FivePoints): { yaw: number; roll: number; pitch: number } {
  const [le, re, nose, lm, rm] = p;
  const roll = deg(Math.atan2(re.y - le.y, re.x - le.x));
  const eyeMid = { x: (le.x + re.x) / 2, y: (le.y + re.y) / 2 };
  const mouthMid = { x: (lm.x + rm.x) / 2, y: (lm.y + rm.y) / 2 };
  const eyeDist = Math.hypot(re.x - le.x, re.y - le.y) || 1;
  // Rotate into the eye-line frame so roll does not leak into yaw/pitch.
  const c = Math.cos((-roll * Math.PI) / 180),
    s = Math.sin((-roll * Math.PI) / 180);
  const rel = (q: { x: number; y: number }) => ({
    x: (q.x - eyeMid.x) * c - (q.y - eyeMid.y) * s,
    y: (q.x - eyeMid.x) * s + (q.y - eyeMid.y) * c,
  });
  const n = rel(nose),
    m = rel(mouthMid);
  const yaw = deg(Math.asin(Math.max(-1, Math.min(1, (n.x / eyeDist) * 1.6))));
  // Frontal faces have the nose tip about 0.57 of the way (median over deepface_small) from the eye line to the mouth line.
  const ratio = m.y > 1e-6 ? n.y / m.y : 0.57;
  const pitch = deg(Math.asin(Math.max(-1, Math.min(1, (ratio - 0.57) * 2.5))));
  return { yaw, roll, pitch };
}

export function faceQuality(
  box: Box,
  points: FivePoints,
  score: number,
  aligned: RgbImage,
  toOriginal: number,
): FaceQuality {
  const [le, re] = points;
  return {
    faceSize: box.height * toOriginal,
    eyeDistance: Math.hypot(re.x - le.x, re.y - le.y) * toOriginal,
    detectorScore: score,
    sharpness: laplacianVariance(aligned),
    ...poseFromPoints(points),
  };
}

import type { FaceQuality } from '../face/quality.js';

export function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

/** Quality figures as stored and shown: whole pixels and degrees, the detector score to 4 places. */
export function qualityNumbers(q: FaceQuality): Record<string, number> {
  return {
    faceSize: Math.round(q.faceSize),
    eyeDistance: Math.round(q.eyeDistance),
    detectorScore: round4(q.detectorScore),
    sharpness: Math.round(q.sharpness),
    yaw: Math.round(q.yaw),
    roll: Math.round(q.roll),
    pitch: Math.round(q.pitch),
  };
}

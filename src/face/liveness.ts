import type * as ortTypes from 'onnxruntime-node';
import { ort, type ModelSpec } from './models.js';
import type { RgbImage } from './image.js';
import { warpBilinear, type Box } from './geometry.js';
import { VeilError } from '../errors.js';

/**
 * Presentation-attack ("liveness") model shipped in the same npm package as the other three
 * (MIT): one still photo in, three classes out; class 0 is "live".
 */
export const LIVENESS_MODEL = {
  id: 'faceplugin-fr_liveness@0.0.1',
  file: 'fr_liveness.onnx',
  sha256: 'afa783b7e902fdfcf323a7240cac2a1c580c25314ea4161129dc1b0d100dc32d',
  npmPackage: 'faceplugin-face-recognition-js@0.0.1',
} as const satisfies ModelSpec;

/**
 * The vendor's decision threshold, taken from its own demo (Faceplugin-ltd/FaceRecognition-
 * LivenessDetection-Vue, `src/views/demo.vue`: `liveResult[i][4] < 0.3 ? "Fake" : "Live"`); the
 * package's `lib/fr_liveness.js` returns the score without deciding. Not tuned here: no spoof data
 * set ships with Veil, and a threshold chosen on genuine photos only would pass everything.
 */
export const LIVENESS_THRESHOLD = 0.3;

/** The crop is this many face boxes wide, centred on the box (`alignLivenessImage(..., 2.7)`). */
const CONTEXT = 2.7;
const SIZE = 128;

export interface LivenessVerdict {
  /** Softmax probability of the "live" class, in [0, 1]. */
  readonly score: number;
  /** score >= LIVENESS_THRESHOLD. */
  readonly live: boolean;
  readonly model: string;
}

/**
 * The region `lib/fr_liveness.js` crops: the face box scaled by 2.7 about its centre (less when the
 * photo is too small to hold it), slid back inside the photo, never past its edges. Integer pixels,
 * as the package's `parseInt` makes them.
 */
export function livenessRegion(width: number, height: number, face: Box): Box {
  const x = Math.trunc(face.x),
    y = Math.trunc(face.y);
  const w = Math.abs(Math.trunc(face.x + face.width) - x),
    h = Math.abs(Math.trunc(face.y + face.height) - y);
  const scale = Math.min((height - 1) / h, (width - 1) / w, CONTEXT);
  const nw = w * scale,
    nh = h * scale;
  const cx = w / 2 + x,
    cy = h / 2 + y;
  let left = cx - nw / 2,
    top = cy - nh / 2,
    right = cx + nw / 2,
    bottom = cy + nh / 2;
  if (left < 0) {
    right -= left;
    left = 0;
  }
  if (top < 0) {
    bottom -= top;
    top = 0;
  }
  if (right > width - 1) {
    left -= right - width + 1;
    right = width - 1;
  }
  if (bottom > height - 1) {
    top -= bottom - height + 1;
    bottom = height - 1;
  }
  return {
    x: Math.max(Math.trunc(left), 0),
    y: Math.max(Math.trunc(top), 0),
    width: Math.min(Math.trunc(right - left), width - 1),
    height: Math.min(Math.trunc(bottom - top), height - 1),
  };
}

/** The 128x128 input: the region resized bilinearly (OpenCV's pixel-centre convention), RGB, 0-255, planar. */
export function livenessInput(img: RgbImage, face: Box): Float32Array {
  const r = livenessRegion(img.width, img.height, face);
  const sx = r.width / SIZE,
    sy = r.height / SIZE;
  const px = warpBilinear(img, [sx, 0, r.x + sx / 2 - 0.5, 0, sy, r.y + sy / 2 - 0.5], SIZE, SIZE);
  const plane = SIZE * SIZE;
  const input = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    input[i] = px[i * 3]!;
    input[plane + i] = px[i * 3 + 1]!;
    input[2 * plane + i] = px[i * 3 + 2]!;
  }
  return input;
}

export function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}

/** fr_liveness.onnx on one face of a decoded photo (working coordinates). */
export class LivenessModel {
  constructor(private readonly session: ortTypes.InferenceSession) {}

  async check(img: RgbImage, face: Box): Promise<LivenessVerdict> {
    const out = await this.session.run({
      input: new ort.Tensor('float32', livenessInput(img, face), [1, 3, SIZE, SIZE]),
    });
    const score = softmax(out['output']!.data as Float32Array)[0]!;
    return { score, live: score >= LIVENESS_THRESHOLD, model: LIVENESS_MODEL.id };
  }
}

/**
 * The gate for identity-proof selfies: a face judged not live (or not judged at all) never passes
 * silently; the caller is told to retake the selfie or to use the path that needs no face.
 */
export function requireLive(v: LivenessVerdict | undefined, what: string, otherwise: string): LivenessVerdict {
  if (v?.live) return v;
  throw new VeilError(
    'LIVENESS_FAILED',
    `${what} does not look like a live capture of a person (a photo of a photo or of a screen is refused): ${otherwise}.`,
    v ? { score: Math.round(v.score * 1e4) / 1e4, threshold: LIVENESS_THRESHOLD } : { score: null },
  );
}

/** The review evidence kept for the DPO: verdict, score(s), model and threshold. */
export function livenessEvidence(verdicts: readonly LivenessVerdict[]): string {
  if (!verdicts.length) return 'not checked';
  const verdict = verdicts.every((v) => v.live) ? 'passed' : 'failed';
  const scores = verdicts.map((v) => v.score.toFixed(4)).join(', ');
  return `${verdict} (score ${scores}; ${verdicts[0]!.model}, threshold ${LIVENESS_THRESHOLD})`;
}

import type * as ortTypes from 'onnxruntime-node';
import { ort } from './models.js';
import type { RgbImage } from './image.js';
import { invertAffine, similarityTransform, warpCrop, type Affine } from './geometry.js';
import type { FivePoints } from './landmarks.js';

export const ALIGNED_SIZE = 112;

/** The usual ArcFace five-point template for a 112x112 crop. */
export const ARCFACE_TEMPLATE: FivePoints = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

export interface AlignedFace {
  /** 112x112 RGB. */
  readonly pixels: RgbImage;
  /** Source-image -> crop transform (for mapping back). */
  readonly transform: Affine;
}

/** Similarity warp of the face onto the canonical 112x112 crop. */
export function align(img: RgbImage, points: FivePoints): AlignedFace {
  const toCrop = similarityTransform(points, ARCFACE_TEMPLATE);
  const data = warpCrop(img, invertAffine(toCrop), ALIGNED_SIZE, ALIGNED_SIZE);
  return { pixels: { width: ALIGNED_SIZE, height: ALIGNED_SIZE, data }, transform: toCrop };
}

export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const n = Math.sqrt(s) || 1;
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! / n;
  return out;
}

export function cosine(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error('embedding dimensions differ');
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return dot / (Math.sqrt(na * nb) || 1);
}

/**
 * 512-d embedder (fr_feature.onnx). Measured: BGR channel order and (v - 127) / 128 scaling give
 * the best verification accuracy; compare with plain cosine (not the package's matchFeature()).
 */
export class Embedder {
  readonly dimensions = 512;
  constructor(private readonly session: ortTypes.InferenceSession) {}

  async embed(face: AlignedFace): Promise<Float32Array> {
    const plane = ALIGNED_SIZE * ALIGNED_SIZE;
    const px = face.pixels.data;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      input[i] = (px[i * 3 + 2]! - 127) / 128; // B
      input[plane + i] = (px[i * 3 + 1]! - 127) / 128; // G
      input[2 * plane + i] = (px[i * 3]! - 127) / 128; // R
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, ALIGNED_SIZE, ALIGNED_SIZE]) });
    return l2normalize(out['output']!.data as Float32Array);
  }
}

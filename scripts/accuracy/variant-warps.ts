// Alternative template fits and warps for scripts/accuracy/variants.ts (experiments only; the engine's
// own path is src/face/geometry.ts). Each warp samples the photo at a dst->src affine, as warpBilinear
// does, and returns floats (the caller rounds to bytes or not): pixels outside the photo are black.
import type { RgbImage } from '../../src/face/image.js';
import { similarityTransform, warpBilinearInto, type Affine, type Point } from '../../src/face/geometry.js';

/** Weighted least-squares similarity transform (Umeyama with per-point weights). */
export function weightedSimilarity(from: readonly Point[], to: readonly Point[], w: readonly number[]): Affine {
  let W = 0,
    fx = 0,
    fy = 0,
    tx = 0,
    ty = 0;
  from.forEach((p, i) => {
    W += w[i]!;
    fx += w[i]! * p.x;
    fy += w[i]! * p.y;
    tx += w[i]! * to[i]!.x;
    ty += w[i]! * to[i]!.y;
  });
  fx /= W;
  fy /= W;
  tx /= W;
  ty /= W;
  let sxx = 0,
    sxy = 0,
    v = 0;
  from.forEach((p, i) => {
    const ax = p.x - fx,
      ay = p.y - fy,
      bx = to[i]!.x - tx,
      by = to[i]!.y - ty;
    sxx += w[i]! * (ax * bx + ay * by);
    sxy += w[i]! * (ax * by - ay * bx);
    v += w[i]! * (ax * ax + ay * ay);
  });
  const a = sxx / v,
    b = sxy / v;
  return [a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)];
}

const mid = (p: Point, q: Point): Point => ({ x: (p.x + q.x) / 2, y: (p.y + q.y) / 2 });

/**
 * Rotation and scale from the eyes only (the eye line onto the template's eye line); horizontal
 * position from the eye midpoint; vertical position from the eyes and the mouth together (the mean of
 * the eye-midpoint and mouth-midpoint offsets along the face's vertical axis).
 */
export function eyesMouthTransform(from: readonly Point[], to: readonly Point[]): Affine {
  const two = similarityTransform([from[0]!, from[1]!], [to[0]!, to[1]!]);
  const ap = (p: Point): Point => ({
    x: two[0] * p.x + two[1] * p.y + two[2],
    y: two[3] * p.x + two[4] * p.y + two[5],
  });
  const eyeF = ap(mid(from[0]!, from[1]!)),
    mouthF = ap(mid(from[3]!, from[4]!));
  const eyeT = mid(to[0]!, to[1]!),
    mouthT = mid(to[3]!, to[4]!);
  const dy = (eyeT.y - eyeF.y + (mouthT.y - mouthF.y)) / 2;
  return [two[0], two[1], two[2], two[3], two[4], two[5] + dy];
}

/**
 * FFHQ-style: rotation from the eye line, scale from the mean of the eye-distance and eye-to-mouth
 * ratios (yaw shrinks the first, pitch the second), centre at the midpoint of eyes and mouth.
 */
export function eyesMouthScaleTransform(from: readonly Point[], to: readonly Point[]): Affine {
  const d = (p: Point, q: Point) => Math.hypot(p.x - q.x, p.y - q.y);
  const ang = (p: Point, q: Point) => Math.atan2(q.y - p.y, q.x - p.x);
  const eF = mid(from[0]!, from[1]!),
    mF = mid(from[3]!, from[4]!),
    eT = mid(to[0]!, to[1]!),
    mT = mid(to[3]!, to[4]!);
  const s = (d(to[0]!, to[1]!) / d(from[0]!, from[1]!) + d(eT, mT) / d(eF, mF)) / 2;
  const th = ang(to[0]!, to[1]!) - ang(from[0]!, from[1]!);
  const a = s * Math.cos(th),
    b = s * Math.sin(th);
  const cF = mid(eF, mF),
    cT = mid(eT, mT);
  return [a, -b, cT.x - (a * cF.x - b * cF.y), b, a, cT.y - (b * cF.x + a * cF.y)];
}

type Kernel = (t: number) => number;
const tent: Kernel = (t) => Math.max(0, 1 - Math.abs(t));
/** Keys cubic, a = -0.5 (Catmull-Rom, as PIL's bicubic). */
const cubic: Kernel = (t) => {
  const x = Math.abs(t);
  if (x < 1) return 1.5 * x * x * x - 2.5 * x * x + 1;
  if (x < 2) return -0.5 * x * x * x + 2.5 * x * x - 4 * x + 2;
  return 0;
};

/**
 * Separable-kernel resampling at a dst->src affine. The kernel is laid out in source pixels when the
 * warp enlarges (scale <= 1) and in destination pixels when it shrinks (antialiasing: every source pixel
 * under the destination pixel's footprint contributes). Weights are normalised over the taps inside and
 * outside the photo alike, outside ones reading black.
 */
function warpKernel(
  src: RgbImage,
  m: Affine,
  outW: number,
  outH: number,
  k: Kernel,
  radius: number,
  antialias: boolean,
): Float32Array {
  const out = new Float32Array(outW * outH * 3);
  const { width: w, height: h, data } = src;
  const det = m[0] * m[4] - m[1] * m[3];
  const scale = Math.sqrt(Math.abs(det));
  const shrink = antialias && scale > 1;
  // Inverse linear part: source offset -> destination offset.
  const i0 = m[4] / det,
    i1 = -m[1] / det,
    i3 = -m[3] / det,
    i4 = m[0] / det;
  const reach = Math.ceil(radius * (shrink ? scale * Math.SQRT2 : 1)) + 1;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = m[0] * x + m[1] * y + m[2];
      const sy = m[3] * x + m[4] * y + m[5];
      const cx = Math.floor(sx),
        cy = Math.floor(sy);
      let r = 0,
        g = 0,
        b = 0,
        wsum = 0;
      for (let py = cy - reach + 1; py <= cy + reach; py++) {
        for (let px = cx - reach + 1; px <= cx + reach; px++) {
          const ox = px - sx,
            oy = py - sy;
          let u = ox,
            v = oy;
          if (shrink) {
            u = i0 * ox + i1 * oy;
            v = i3 * ox + i4 * oy;
          }
          const wt = k(u) * k(v);
          if (wt === 0) continue;
          wsum += wt;
          if (px < 0 || py < 0 || px >= w || py >= h) continue;
          const o = (py * w + px) * 3;
          r += wt * data[o]!;
          g += wt * data[o + 1]!;
          b += wt * data[o + 2]!;
        }
      }
      const o = (y * outW + x) * 3;
      const n = wsum || 1;
      out[o] = r / n;
      out[o + 1] = g / n;
      out[o + 2] = b / n;
    }
  }
  return out;
}

export const warpBicubic = (src: RgbImage, m: Affine, w: number, h: number) =>
  warpKernel(src, m, w, h, cubic, 2, false);
/** Bilinear when enlarging, a triangle filter over the destination pixel's footprint when shrinking. */
export const warpAntialiased = (src: RgbImage, m: Affine, w: number, h: number) =>
  warpKernel(src, m, w, h, tent, 1, true);
/** Bicubic, antialiased when shrinking. */
export const warpBicubicAntialiased = (src: RgbImage, m: Affine, w: number, h: number) =>
  warpKernel(src, m, w, h, cubic, 2, true);

/** Bilinear without rounding to bytes (the embedder's input quantisation left out). */
export const warpBilinearFloat = (src: RgbImage, m: Affine, outW: number, outH: number): Float32Array =>
  warpBilinearInto(new Float32Array(outW * outH * 3), src, m, outW, outH, 0);

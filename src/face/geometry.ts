import type { RgbImage } from './image.js';

export interface Point {
  readonly x: number;
  readonly y: number;
}

export interface Box {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Row-major 2x3 affine matrix [a, b, c, d, e, f]: x' = a*x + b*y + c, y' = d*x + e*y + f. */
export type Affine = readonly [number, number, number, number, number, number];

export function applyAffine(m: Affine, p: Point): Point {
  return { x: m[0] * p.x + m[1] * p.y + m[2], y: m[3] * p.x + m[4] * p.y + m[5] };
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (Math.abs(det) < 1e-12) throw new Error('singular affine transform');
  const a = m[4] / det;
  const b = -m[1] / det;
  const d = -m[3] / det;
  const e = m[0] / det;
  return [a, b, -(a * m[2] + b * m[5]), d, e, -(d * m[2] + e * m[5])];
}

/**
 * Least-squares similarity transform (rotation, uniform scale, translation; no reflection) mapping
 * `from` onto `to` (Umeyama 1991, closed form for 2-D).
 */
export function similarityTransform(from: readonly Point[], to: readonly Point[]): Affine {
  const n = from.length;
  if (n < 2 || n !== to.length) throw new Error('similarityTransform needs >= 2 matching points');
  let fx = 0,
    fy = 0,
    tx = 0,
    ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i]!.x;
    fy += from[i]!.y;
    tx += to[i]!.x;
    ty += to[i]!.y;
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let sxx = 0,
    sxy = 0,
    var0 = 0;
  for (let i = 0; i < n; i++) {
    const ax = from[i]!.x - fx,
      ay = from[i]!.y - fy;
    const bx = to[i]!.x - tx,
      by = to[i]!.y - ty;
    sxx += ax * bx + ay * by; // dot
    sxy += ax * by - ay * bx; // cross
    var0 += ax * ax + ay * ay;
  }
  if (var0 < 1e-12) throw new Error('degenerate points');
  const a = sxx / var0;
  const b = sxy / var0;
  // [a -b; b a] is scale*rotation.
  return [a, -b, tx - (a * fx - b * fy), b, a, ty - (b * fx + a * fy)];
}

/**
 * Samples `src` with bilinear interpolation at dst->src mapping `m` into an outW x outH RGB image.
 * Pixels outside the source are black, as in the embedder's training crops.
 */
export function warpBilinear(src: RgbImage, m: Affine, outW: number, outH: number): Uint8Array {
  return warpBilinearInto(new Uint8Array(outW * outH * 3), src, m, outW, outH, 0.5);
}

/**
 * warpBilinear into `out`, each sample plus `bias` (0.5 rounds to the nearest byte in a Uint8Array;
 * 0 in a Float32Array keeps the unrounded values, which the accuracy scripts compare against).
 */
export function warpBilinearInto<T extends Uint8Array | Float32Array>(
  out: T,
  src: RgbImage,
  m: Affine,
  outW: number,
  outH: number,
  bias: number,
): T {
  const { width: w, height: h, data } = src;
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const sx = m[0] * x + m[1] * y + m[2];
      const sy = m[3] * x + m[4] * y + m[5];
      const x0 = Math.floor(sx),
        y0 = Math.floor(sy);
      const fx = sx - x0,
        fy = sy - y0;
      const o = (y * outW + x) * 3;
      for (let c = 0; c < 3; c++) {
        let acc = 0;
        // Four taps; each out-of-bounds tap contributes 0.
        if (y0 >= 0 && y0 < h) {
          if (x0 >= 0 && x0 < w) acc += (1 - fx) * (1 - fy) * data[(y0 * w + x0) * 3 + c]!;
          if (x0 + 1 >= 0 && x0 + 1 < w) acc += fx * (1 - fy) * data[(y0 * w + x0 + 1) * 3 + c]!;
        }
        if (y0 + 1 >= 0 && y0 + 1 < h) {
          if (x0 >= 0 && x0 < w) acc += (1 - fx) * fy * data[((y0 + 1) * w + x0) * 3 + c]!;
          if (x0 + 1 >= 0 && x0 + 1 < w) acc += fx * fy * data[((y0 + 1) * w + x0 + 1) * 3 + c]!;
        }
        out[o + c] = acc + bias;
      }
    }
  }
  return out;
}

/**
 * Box-filter downsampling of a rectangle of `src` by an integer factor. Bilinear sampling alone
 * aliases when shrinking a large face several times; averaging f x f blocks first keeps the
 * later bilinear step within a 1-2x scale. Returns the chip and the dst->src affine of its pixels.
 */
export function downsampleRegion(src: RgbImage, region: Box, factor: number): { chip: RgbImage; toSource: Affine } {
  const f = Math.max(1, Math.floor(factor));
  const x0 = Math.max(0, Math.floor(region.x));
  const y0 = Math.max(0, Math.floor(region.y));
  const x1 = Math.min(src.width, Math.ceil(region.x + region.width));
  const y1 = Math.min(src.height, Math.ceil(region.y + region.height));
  const cw = Math.max(1, Math.floor((x1 - x0) / f));
  const ch = Math.max(1, Math.floor((y1 - y0) / f));
  const data = new Uint8Array(cw * ch * 3);
  const sw = src.width;
  const sd = src.data;
  const area = f * f;
  for (let cy = 0; cy < ch; cy++) {
    for (let cx = 0; cx < cw; cx++) {
      let r = 0,
        g = 0,
        b = 0,
        n = 0;
      for (let dy = 0; dy < f; dy++) {
        const sy = y0 + cy * f + dy;
        if (sy >= src.height) break;
        let i = (sy * sw + x0 + cx * f) * 3;
        for (let dx = 0; dx < f; dx++, i += 3) {
          if (x0 + cx * f + dx >= sw) break;
          r += sd[i]!;
          g += sd[i + 1]!;
          b += sd[i + 2]!;
          n++;
        }
      }
      const o = (cy * cw + cx) * 3;
      const k = n || area;
      data[o] = r / k + 0.5;
      data[o + 1] = g / k + 0.5;
      data[o + 2] = b / k + 0.5;
    }
  }
  // Chip pixel centre (cx, cy) covers source [x0 + cx*f, x0 + cx*f + f): its centre is + (f-1)/2.
  return { chip: { width: cw, height: ch, data }, toSource: [f, 0, x0 + (f - 1) / 2, 0, f, y0 + (f - 1) / 2] };
}

/** Composes two affines: result(p) = outer(inner(p)). */
export function composeAffine(outer: Affine, inner: Affine): Affine {
  return [
    outer[0] * inner[0] + outer[1] * inner[3],
    outer[0] * inner[1] + outer[1] * inner[4],
    outer[0] * inner[2] + outer[1] * inner[5] + outer[2],
    outer[3] * inner[0] + outer[4] * inner[3],
    outer[3] * inner[1] + outer[4] * inner[4],
    outer[3] * inner[2] + outer[4] * inner[5] + outer[5],
  ];
}

/**
 * Crops the quadrilateral that `dstToSrc` maps an outW x outH output onto, shrinking by an integer
 * factor first when the output is much smaller than the source region (see downsampleRegion).
 */
export function warpCrop(src: RgbImage, dstToSrc: Affine, outW: number, outH: number): Uint8Array {
  const scale = Math.sqrt(Math.abs(dstToSrc[0] * dstToSrc[4] - dstToSrc[1] * dstToSrc[3]));
  const f = Math.floor(scale);
  if (f < 2) return warpBilinear(src, dstToSrc, outW, outH);
  const corners = [
    applyAffine(dstToSrc, { x: 0, y: 0 }),
    applyAffine(dstToSrc, { x: outW, y: 0 }),
    applyAffine(dstToSrc, { x: 0, y: outH }),
    applyAffine(dstToSrc, { x: outW, y: outH }),
  ];
  const minX = Math.min(...corners.map((p) => p.x)) - f;
  const minY = Math.min(...corners.map((p) => p.y)) - f;
  const maxX = Math.max(...corners.map((p) => p.x)) + f;
  const maxY = Math.max(...corners.map((p) => p.y)) + f;
  // Snap the region origin to whole pixels so the chip grid aligns with the source grid.
  const rx = Math.floor(minX),
    ry = Math.floor(minY);
  const { chip, toSource } = downsampleRegion(src, { x: rx, y: ry, width: maxX - rx, height: maxY - ry }, f);
  // When the region is clipped at the image's left/top edge the chip starts at 0, which toSource records.
  const dstToChip = composeAffine(invertAffine(toSource), dstToSrc);
  return warpBilinear(chip, dstToChip, outW, outH);
}

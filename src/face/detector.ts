import type * as ortTypes from 'onnxruntime-node';
import { ort } from './models.js';
import { resizeRgb, type RgbImage } from './image.js';
import type { Box } from './geometry.js';

export interface Detection {
  /** In the coordinates of the image passed to detect(). */
  readonly box: Box;
  readonly score: number;
}

export interface DetectorOptions {
  /** Minimum face probability; 0.6 keeps recall on small faces in group photos. */
  readonly minScore: number;
  readonly nmsIou: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { minScore: 0.6, nmsIou: 0.4 };

const IN_W = 320;
const IN_H = 240;
const TILE_MIN_SCORE = 0.9;

/**
 * Ultra-light RFB face detector (fr_detect.onnx): fixed 320x240 input, 4,420 anchors, decoded
 * corner boxes in [0,1]. The whole frame is fed at that size, so faces smaller than about 1/30 of
 * the frame's width are found by also scanning overlapping tiles (see `tiles`).
 */
export class UltraFaceDetector {
  constructor(
    private readonly session: ortTypes.InferenceSession,
    private readonly opts: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {}

  async detect(img: RgbImage, opts: { tiles?: boolean } = {}): Promise<Detection[]> {
    const all = await this.detectRegion(img, { x: 0, y: 0, width: img.width, height: img.height });
    if (opts.tiles && Math.max(img.width, img.height) > 2 * IN_W) {
      for (const region of tileRegions(img.width, img.height)) all.push(...(await this.detectRegion(img, region)));
    }
    return nms(all, this.opts.nmsIou);
  }

  /**
   * Second look for photos where the full frame found nothing: a tight face crop (the detector needs
   * some context around a face, so pad it) or a small face in a large frame (scan tiles).
   */
  async detectHarder(img: RgbImage): Promise<Detection[]> {
    const pad = Math.round(Math.max(img.width, img.height) * 0.3);
    const padded = padRgb(img, pad);
    const found = (await this.detectRegion(padded, { x: 0, y: 0, width: padded.width, height: padded.height })).map(
      (d) => ({
        score: d.score,
        box: { x: d.box.x - pad, y: d.box.y - pad, width: d.box.width, height: d.box.height },
      }),
    );
    if (Math.max(img.width, img.height) > 2 * IN_W) {
      // Tiles see clutter at twice the scale: only confident hits count (measured: trees and
      // decorations score 0.6-0.85 there).
      for (const region of tileRegions(img.width, img.height)) {
        found.push(...(await this.detectRegion(img, region)).filter((d) => d.score >= TILE_MIN_SCORE));
      }
    }
    return nms(found, this.opts.nmsIou);
  }

  private async detectRegion(img: RgbImage, region: Box): Promise<Detection[]> {
    const sub =
      region.x === 0 && region.y === 0 && region.width === img.width && region.height === img.height
        ? img
        : cropRgb(img, region);
    const pixels = await resizeRgb(sub, IN_W, IN_H);
    const plane = IN_W * IN_H;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      input[i] = (pixels[i * 3]! - 127) / 128;
      input[plane + i] = (pixels[i * 3 + 1]! - 127) / 128;
      input[2 * plane + i] = (pixels[i * 3 + 2]! - 127) / 128;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, IN_H, IN_W]) });
    const scores = out['scores']!.data as Float32Array;
    const boxes = out['boxes']!.data as Float32Array;
    const found: Detection[] = [];
    const n = scores.length / 2;
    for (let i = 0; i < n; i++) {
      const s = scores[i * 2 + 1]!;
      if (s < this.opts.minScore) continue;
      const x1 = boxes[i * 4]! * region.width + region.x;
      const y1 = boxes[i * 4 + 1]! * region.height + region.y;
      const x2 = boxes[i * 4 + 2]! * region.width + region.x;
      const y2 = boxes[i * 4 + 3]! * region.height + region.y;
      if (x2 <= x1 || y2 <= y1) continue;
      found.push({ box: { x: x1, y: y1, width: x2 - x1, height: y2 - y1 }, score: s });
    }
    return found;
  }
}

/** Overlapping tiles of about 4:3, each about half the frame, so small faces get 2x the pixels. */
export function tileRegions(width: number, height: number): Box[] {
  const tw = Math.round(width / 2 + width / 6);
  const th = Math.round(height / 2 + height / 6);
  const out: Box[] = [];
  for (const fx of [0, 0.5, 1]) {
    for (const fy of [0, 0.5, 1]) {
      out.push({ x: Math.round((width - tw) * fx), y: Math.round((height - th) * fy), width: tw, height: th });
    }
  }
  return out;
}

/** Surrounds the image with a mid-grey border of `pad` pixels. */
function padRgb(img: RgbImage, pad: number): RgbImage {
  const w = img.width + 2 * pad,
    h = img.height + 2 * pad;
  const data = new Uint8Array(w * h * 3).fill(127);
  for (let y = 0; y < img.height; y++) {
    data.set(img.data.subarray(y * img.width * 3, (y + 1) * img.width * 3), ((y + pad) * w + pad) * 3);
  }
  return { width: w, height: h, data };
}

function cropRgb(img: RgbImage, r: Box): RgbImage {
  const data = new Uint8Array(r.width * r.height * 3);
  for (let y = 0; y < r.height; y++) {
    const s = ((r.y + y) * img.width + r.x) * 3;
    data.set(img.data.subarray(s, s + r.width * 3), y * r.width * 3);
  }
  return { width: r.width, height: r.height, data };
}

export function iou(a: Box, b: Box): number {
  const x1 = Math.max(a.x, b.x),
    y1 = Math.max(a.y, b.y);
  const x2 = Math.min(a.x + a.width, b.x + b.width),
    y2 = Math.min(a.y + a.height, b.y + b.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  const union = a.width * a.height + b.width * b.height - inter;
  return union > 0 ? inter / union : 0;
}

/** Greedy non-maximum suppression, highest score first. */
export function nms(dets: Detection[], threshold: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const keep: Detection[] = [];
  for (const d of sorted) {
    if (keep.every((k) => iou(k.box, d.box) < threshold && !contains(k.box, d.box))) keep.push(d);
  }
  return keep;
}

/** A box mostly inside a kept one is the same face seen at another tile scale. */
function contains(outer: Box, inner: Box): boolean {
  const x1 = Math.max(outer.x, inner.x),
    y1 = Math.max(outer.y, inner.y);
  const x2 = Math.min(outer.x + outer.width, inner.x + inner.width),
    y2 = Math.min(outer.y + outer.height, inner.y + inner.height);
  const inter = Math.max(0, x2 - x1) * Math.max(0, y2 - y1);
  return inter > 0.7 * Math.min(inner.width * inner.height, outer.width * outer.height);
}

import sharp, { type OverlayOptions } from 'sharp';
import type { Box } from '../face/geometry.js';

/**
 * Blurs the given face boxes (grown by a margin so hair and jaw go too) and returns a JPEG.
 * A strong Gaussian blur on each region: unrecognisable, and still clearly "a person was here".
 */
export async function blurFaces(
  photo: Uint8Array,
  boxes: readonly Box[],
  opts: { quality?: number } = {},
): Promise<Buffer> {
  const base = sharp(photo).rotate();
  const { data, info } = await base.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const overlays: OverlayOptions[] = [];
  for (const b of boxes) {
    const mx = b.width * 0.2,
      my = b.height * 0.2;
    const left = Math.max(0, Math.floor(b.x - mx));
    const top = Math.max(0, Math.floor(b.y - my));
    const width = Math.min(info.width - left, Math.ceil(b.width + 2 * mx));
    const height = Math.min(info.height - top, Math.ceil(b.height + 2 * my));
    if (width < 2 || height < 2) continue;
    const region = await sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
      .extract({ left, top, width, height })
      .blur(Math.max(6, Math.min(width, height) / 6))
      .png()
      .toBuffer();
    overlays.push({ input: region, left, top });
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } })
    .composite(overlays)
    .jpeg({ quality: opts.quality ?? 88 })
    .toBuffer();
}

/**
 * The person's own face from a photo, for their access export: the crop around their box with
 * every other face inside it pixelated. One decode and one encode per photo (the earlier
 * blur-then-crop pipeline decoded three times and cost about 20 ms a sighting).
 */
export async function ownFaceCrop(photo: Uint8Array, own: Box, others: readonly Box[]): Promise<Buffer> {
  return (await ownFaceCrops(photo, [{ own, others }]))[0]!;
}

/** The crops of several faces of one photo (ingestion makes one per sighting), from one decode. */
export async function ownFaceCrops(
  photo: Uint8Array,
  faces: readonly { own: Box; others: readonly Box[] }[],
): Promise<Buffer[]> {
  if (!faces.length) return [];
  const { data, info } = await sharp(photo).rotate().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return Promise.all(faces.map((f) => cropOf(data, info.width, info.height, f.own, f.others)));
}

function cropOf(data: Buffer, W: number, H: number, own: Box, others: readonly Box[]): Promise<Buffer> {
  const m = 0.3;
  const left = Math.max(0, Math.floor(own.x - own.width * m));
  const top = Math.max(0, Math.floor(own.y - own.height * m));
  const width = Math.max(1, Math.min(W - left, Math.ceil(own.width * (1 + 2 * m))));
  const height = Math.max(1, Math.min(H - top, Math.ceil(own.height * (1 + 2 * m))));
  const crop = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++)
    data.copy(crop, y * width * 3, ((top + y) * W + left) * 3, ((top + y) * W + left + width) * 3);
  for (const b of others) {
    // The other face's box (grown like blurFaces does) in crop coordinates, clipped.
    const gx = b.width * 0.2,
      gy = b.height * 0.2;
    const x0 = Math.max(0, Math.floor(b.x - gx) - left),
      y0 = Math.max(0, Math.floor(b.y - gy) - top);
    const x1 = Math.min(width, Math.ceil(b.x + b.width + gx) - left),
      y1 = Math.min(height, Math.ceil(b.y + b.height + gy) - top);
    if (x1 <= x0 || y1 <= y0) continue;
    pixelate(crop, width, x0, y0, x1, y1, Math.max(4, Math.round(Math.min(b.width, b.height) / 6)));
  }
  return sharp(crop, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 88 })
    .toBuffer();
}

/** Replaces each block of the rectangle by its mean colour: a face cannot be recognised from it. */
function pixelate(img: Buffer, w: number, x0: number, y0: number, x1: number, y1: number, block: number): void {
  for (let by = y0; by < y1; by += block) {
    for (let bx = x0; bx < x1; bx += block) {
      const ex = Math.min(x1, bx + block),
        ey = Math.min(y1, by + block);
      let r = 0,
        g = 0,
        b = 0,
        n = 0;
      for (let y = by; y < ey; y++)
        for (let x = bx; x < ex; x++) {
          const i = (y * w + x) * 3;
          r += img[i]!;
          g += img[i + 1]!;
          b += img[i + 2]!;
          n++;
        }
      r = Math.round(r / n);
      g = Math.round(g / n);
      b = Math.round(b / n);
      for (let y = by; y < ey; y++)
        for (let x = bx; x < ex; x++) {
          const i = (y * w + x) * 3;
          img[i] = r;
          img[i + 1] = g;
          img[i + 2] = b;
        }
    }
  }
}

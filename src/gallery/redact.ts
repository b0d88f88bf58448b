import sharp, { type OverlayOptions } from 'sharp';
import type { Box } from '../face/geometry.js';

/**
 * Blurs the given face boxes (grown by a margin so hair and jaw go too) and returns a JPEG.
 * A strong Gaussian blur on each region: unrecognisable, and still clearly "a person was here".
 */
export async function blurFaces(photo: Uint8Array, boxes: readonly Box[], opts: { quality?: number } = {}): Promise<Buffer> {
  const base = sharp(photo).rotate();
  const { data, info } = await base.clone().removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const overlays: OverlayOptions[] = [];
  for (const b of boxes) {
    const mx = b.width * 0.2, my = b.height * 0.2;
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
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 3 } }).composite(overlays).jpeg({ quality: opts.quality ?? 88 }).toBuffer();
}

/** Crops a box (with margin) out of a photo, as a JPEG: the person's own face in an access export. */
export async function cropFace(photo: Uint8Array, b: Box): Promise<Buffer> {
  const img = sharp(photo).rotate();
  const meta = await sharp(photo).rotate().toBuffer({ resolveWithObject: true });
  const W = meta.info.width, H = meta.info.height;
  const m = 0.3;
  const left = Math.max(0, Math.floor(b.x - b.width * m));
  const top = Math.max(0, Math.floor(b.y - b.height * m));
  const width = Math.min(W - left, Math.ceil(b.width * (1 + 2 * m)));
  const height = Math.min(H - top, Math.ceil(b.height * (1 + 2 * m)));
  return img.extract({ left, top, width, height }).jpeg({ quality: 90 }).toBuffer();
}

import sharp, { type Metadata } from 'sharp';
import { VeilError } from '../errors.js';

/** An RGB image, 3 bytes per pixel, row-major. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

/**
 * A decoded photo in its working resolution. Large photos are downscaled once at decode so that every
 * later stage works on a bounded number of pixels; `scale` maps working coordinates back to the
 * original (EXIF-oriented) frame: original = working * scale.
 */
export interface DecodedImage extends RgbImage {
  readonly originalWidth: number;
  readonly originalHeight: number;
  readonly scale: number;
  readonly format: string;
}

export interface DecodeOptions {
  /** Refuse images with more input pixels than this (decompression bombs). */
  readonly maxPixels: number;
  /** Long side of the working image; faces in larger photos are still plenty large. */
  readonly maxWorkingSide: number;
}

export const DEFAULT_DECODE_OPTIONS: DecodeOptions = { maxPixels: 50_000_000, maxWorkingSide: 2048 };

export async function decode(bytes: Uint8Array, opts: DecodeOptions = DEFAULT_DECODE_OPTIONS): Promise<DecodedImage> {
  if (bytes.byteLength === 0) throw new VeilError('INVALID_IMAGE', 'The file is empty.');
  let meta: Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch {
    throw new VeilError(
      'INVALID_IMAGE',
      'The file is not an image that can be decoded (JPEG, PNG, WebP, GIF, TIFF, AVIF).',
    );
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new VeilError('INVALID_IMAGE', 'The image has no pixels.');
  if (w * h > opts.maxPixels) {
    throw new VeilError('IMAGE_TOO_LARGE', `The image has ${w * h} pixels; the limit is ${opts.maxPixels}.`, {
      pixels: w * h,
      limit: opts.maxPixels,
    });
  }
  // EXIF orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5;
  const ow = swapped ? h : w;
  const oh = swapped ? w : h;
  const long = Math.max(ow, oh);
  const factor = long > opts.maxWorkingSide ? opts.maxWorkingSide / long : 1;
  try {
    let pipeline = sharp(bytes, { limitInputPixels: opts.maxPixels, failOn: 'truncated' }).rotate();
    if (factor < 1) pipeline = pipeline.resize(Math.round(ow * factor), Math.round(oh * factor), { fit: 'fill' });
    const { data, info } = await pipeline
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`unexpected channel count ${info.channels}`);
    return {
      width: info.width,
      height: info.height,
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      originalWidth: ow,
      originalHeight: oh,
      scale: ow / info.width,
      format: meta.format ?? 'unknown',
    };
  } catch (e) {
    if (e instanceof VeilError) throw e;
    throw new VeilError('INVALID_IMAGE', 'The image is damaged or truncated and cannot be decoded.');
  }
}

/** Encodes raw RGB as PNG; used for debugging artefacts and redaction output. */
export async function encodePng(img: RgbImage): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .png()
    .toBuffer();
}

/** Resizes a whole image (non-uniformly) with libvips; used for detector input. */
export async function resizeRgb(img: RgbImage, width: number, height: number): Promise<Uint8Array> {
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'linear' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

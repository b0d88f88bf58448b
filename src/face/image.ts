import sharp, { type Metadata, type SharpOptions } from 'sharp';
import { VeilError } from '../errors.js';
import { FORMAT_NAMES, IMAGE_FORMATS, requireImageFormat, type ImageFormat } from './image-format.js';

/**
 * libvips loaders for the five accepted formats. Every other loader (SVG, HEIF/AVIF, PDF, ...) is
 * blocked for the whole process the moment this module loads, so even a caller that skipped the
 * byte sniff cannot get sharp to render, say, an SVG. The sniff in decode() stays the first gate.
 */
const LOADERS: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'VipsForeignLoadJpeg',
  png: 'VipsForeignLoadPng',
  webp: 'VipsForeignLoadWebp',
  gif: 'VipsForeignLoadNsgif',
  tiff: 'VipsForeignLoadTiff',
};
sharp.block({ operation: ['VipsForeignLoad'] });
sharp.unblock({ operation: Object.values(LOADERS) });

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
  readonly format: ImageFormat;
}

export interface DecodeOptions {
  /** Refuse images with more input pixels than this (decompression bombs); checked from the header. */
  readonly maxPixels: number;
  /** Long side of the working image; faces in larger photos are still plenty large. */
  readonly maxWorkingSide: number;
  /** Formats accepted, judged by the leading bytes before any decoder runs; default all five. */
  readonly formats?: readonly ImageFormat[];
  /** libvips abandons a decode that runs longer than this many seconds (default 10). */
  readonly timeoutSeconds?: number;
}

export const DEFAULT_DECODE_OPTIONS: DecodeOptions = {
  maxPixels: 50_000_000,
  maxWorkingSide: 2048,
  formats: IMAGE_FORMATS,
  timeoutSeconds: 10,
};

export async function decode(bytes: Uint8Array, opts: DecodeOptions = DEFAULT_DECODE_OPTIONS): Promise<DecodedImage> {
  // The gate: nothing reaches libvips unless its first bytes are one of the accepted formats.
  const format = requireImageFormat(bytes, opts.formats ?? IMAGE_FORMATS);
  const name = FORMAT_NAMES[format];
  const input: SharpOptions = {
    limitInputPixels: opts.maxPixels,
    failOn: 'truncated',
    sequentialRead: true,
    // Animated GIF/WebP: the first frame; multi-page TIFF: the first page.
    pages: 1,
  };
  let meta: Metadata;
  try {
    meta = await sharp(bytes, input).metadata();
  } catch (e) {
    throw sharpError(e, opts, `The file starts like a ${name} image but cannot be decoded.`);
  }
  // libvips chose its loader from the bytes too; it must have chosen the one the sniff vouched for.
  if (meta.format !== format) {
    throw new VeilError('INVALID_IMAGE', `The file starts like a ${name} image but is not one.`);
  }
  const w = meta.width ?? 0;
  const h = meta.height ?? 0;
  if (w <= 0 || h <= 0) throw new VeilError('INVALID_IMAGE', 'The image has no pixels.');
  if (w * h > opts.maxPixels) throw tooLarge(opts, w * h);
  // EXIF orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5;
  const ow = swapped ? h : w;
  const oh = swapped ? w : h;
  const long = Math.max(ow, oh);
  const factor = long > opts.maxWorkingSide ? opts.maxWorkingSide / long : 1;
  try {
    let pipeline = sharp(bytes, input)
      .timeout({ seconds: opts.timeoutSeconds ?? DEFAULT_DECODE_OPTIONS.timeoutSeconds! })
      .rotate();
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
      format,
    };
  } catch (e) {
    throw sharpError(e, opts, 'The image is damaged or truncated and cannot be decoded.');
  }
}

function tooLarge(opts: DecodeOptions, pixels?: number): VeilError {
  return pixels === undefined
    ? new VeilError('IMAGE_TOO_LARGE', `The image has more than ${opts.maxPixels} pixels.`, { limit: opts.maxPixels })
    : new VeilError('IMAGE_TOO_LARGE', `The image has ${pixels} pixels; the limit is ${opts.maxPixels}.`, {
        pixels,
        limit: opts.maxPixels,
      });
}

/** sharp's errors are plain Errors with libvips text; the caller gets a typed error, never that text. */
function sharpError(e: unknown, opts: DecodeOptions, fallback: string): VeilError {
  if (e instanceof VeilError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  if (/exceeds pixel limit/i.test(msg)) return tooLarge(opts);
  if (/^timeout/i.test(msg)) {
    const s = opts.timeoutSeconds ?? DEFAULT_DECODE_OPTIONS.timeoutSeconds!;
    return new VeilError('INVALID_IMAGE', `The image took longer than ${s} s to decode and was abandoned.`, {
      reason: 'decode-timeout',
    });
  }
  return new VeilError('INVALID_IMAGE', fallback);
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

/** A 640x480 JPEG of smooth gradients, made once per thread: what FaceEngine's warm-up decodes. */
let warmUpBytes: Promise<Buffer> | null = null;
export function warmUpJpeg(): Promise<Buffer> {
  return (warmUpBytes ??= gradientJpeg(640, 480));
}

/** A JPEG of smooth gradients, w x h. */
export function gradientJpeg(w: number, h: number): Promise<Buffer> {
  const data = Buffer.alloc(w * h * 3);
  for (let i = 0; i < w * h; i++) {
    const x = i % w,
      y = Math.floor(i / w);
    data[i * 3] = (x * 255) / w;
    data[i * 3 + 1] = (y * 255) / h;
    data[i * 3 + 2] = ((x + y) * 127) / (w + h) + 64;
  }
  return sharp(data, { raw: { width: w, height: h, channels: 3 } })
    .jpeg()
    .toBuffer();
}

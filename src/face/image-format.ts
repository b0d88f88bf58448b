/**
 * Which image formats Veil decodes, decided from the first bytes before any decoder sees the file.
 * Pure functions: no I/O, no native code. Everything that is not one of these five is refused,
 * whatever a decoder could have made of it (SVG, HEIF/AVIF, PDF, BMP, text, polyglots).
 */
import { VeilError } from '../errors.js';

export const IMAGE_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

/** The formats a public (unauthenticated) route should take: what phones and browsers produce. */
export const PUBLIC_IMAGE_FORMATS: readonly ImageFormat[] = ['jpeg', 'png', 'webp'];

/** Human names, for messages. */
export const FORMAT_NAMES: Readonly<Record<ImageFormat, string>> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WebP',
  gif: 'GIF',
  tiff: 'TIFF',
};

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(b: Uint8Array, sig: readonly number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

function ascii(b: Uint8Array, at: number, text: string): boolean {
  return startsWith(
    b,
    Array.from(text, (c) => c.charCodeAt(0)),
    at,
  );
}

/**
 * The format the leading bytes declare, or null. Only the container signature is checked; whether
 * the rest of the file is a valid image is the decoder's business (and its metadata must agree).
 */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  // JPEG: SOI marker followed by the start of another marker.
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (startsWith(bytes, PNG_SIGNATURE)) return 'png';
  // WebP: a RIFF container of form WEBP whose first chunk is VP8 (lossy), VP8L (lossless) or VP8X (extended).
  if (ascii(bytes, 0, 'RIFF') && ascii(bytes, 8, 'WEBPVP8')) {
    const c = bytes[15];
    if (c === 0x20 /* ' ' */ || c === 0x4c /* L */ || c === 0x58 /* X */) return 'webp';
    return null;
  }
  if (ascii(bytes, 0, 'GIF87a') || ascii(bytes, 0, 'GIF89a')) return 'gif';
  // Classic TIFF, both byte orders (BigTIFF, 43, is not accepted).
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'tiff';
  return null;
}

/**
 * A name for a well-known format Veil does not decode, so the refusal can say what it saw; null
 * when the bytes look like nothing known. Used for messages only, never to accept anything.
 */
export function describeUnsupported(bytes: Uint8Array): string | null {
  if (ascii(bytes, 4, 'ftyp')) {
    const brand = String.fromCharCode(...bytes.subarray(8, 12));
    if (/^avi[fs]$/.test(brand)) return 'AVIF';
    if (/^(hei[cxms]|hev[cxms]|mif1|msf1)$/.test(brand)) return 'HEIF';
    return null;
  }
  if (ascii(bytes, 0, '%PDF-')) return 'PDF';
  // BMP: 'BM', then a DIB header whose size is one of the known versions (so text starting "BM" is not one).
  if (ascii(bytes, 0, 'BM') && bytes.length >= 18 && [12, 40, 52, 56, 64, 108, 124].includes(bytes[14]!)) return 'BMP';
  if (ascii(bytes, 0, '8BPS')) return 'PSD';
  if (startsWith(bytes, [0xff, 0x0a]) || startsWith(bytes, [0, 0, 0, 0x0c, 0x4a, 0x58, 0x4c, 0x20])) return 'JPEG XL';
  if (startsWith(bytes, [0, 0, 0, 0x0c, 0x6a, 0x50, 0x20, 0x20]) || startsWith(bytes, [0xff, 0x4f, 0xff, 0x51]))
    return 'JPEG 2000';
  if (startsWith(bytes, [0, 0, 1, 0])) return 'ICO';
  if (startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])) return 'BigTIFF';
  // SVG (or other XML/HTML): text whose first tag-ish content mentions <svg within the first kilobyte.
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString('latin1');
  if (/^(\xef\xbb\xbf)?\s*</.test(head) && /<svg[\s>]/i.test(head)) return 'SVG';
  return null;
}

/** Parses a caller's list of format names (case-insensitive; `jpg` and `tif` are accepted as aliases). */
export function parseImageFormats(names: readonly string[]): ImageFormat[] {
  const out = new Set<ImageFormat>();
  for (const raw of names) {
    const n = raw.toLowerCase();
    const f = n === 'jpg' ? 'jpeg' : n === 'tif' ? 'tiff' : n;
    if (!(IMAGE_FORMATS as readonly string[]).includes(f)) {
      throw new TypeError(`Unknown image format '${raw}'; known: ${IMAGE_FORMATS.join(', ')}.`);
    }
    out.add(f as ImageFormat);
  }
  if (out.size === 0) throw new TypeError('An empty list of image formats would refuse every image.');
  return [...out];
}

/**
 * The formats one call may decode: the caller's list (names checked at run time, since they often
 * come from configuration or another process) intersected with what the engine accepts at all.
 * A caller can only narrow, never widen.
 */
export function narrowFormats(
  base: readonly ImageFormat[] | undefined,
  requested: readonly string[] | undefined,
): ImageFormat[] {
  const all = base ?? IMAGE_FORMATS;
  if (!requested) return [...all];
  const wanted = parseImageFormats(requested);
  return all.filter((f) => wanted.includes(f));
}

/**
 * The gate in front of every decoder: the format the bytes declare, if it is among `allowed`;
 * otherwise a typed error (INVALID_IMAGE for bytes that are no known image, UNSUPPORTED_IMAGE_FORMAT
 * for a recognisable image in a format not accepted here).
 */
export function requireImageFormat(bytes: Uint8Array, allowed: readonly ImageFormat[] = IMAGE_FORMATS): ImageFormat {
  const accepted = allowed.map((f) => FORMAT_NAMES[f]);
  const list =
    accepted.length > 1
      ? `${accepted.slice(0, -1).join(', ')} or ${accepted.at(-1)}`
      : (accepted[0] ?? 'no image format (none is accepted here)');
  if (bytes.byteLength === 0) throw new VeilError('INVALID_IMAGE', 'The file is empty.');
  const format = sniffImageFormat(bytes);
  if (format && allowed.includes(format)) return format;
  const other = format ? FORMAT_NAMES[format] : describeUnsupported(bytes);
  if (other) {
    throw new VeilError('UNSUPPORTED_IMAGE_FORMAT', `${other} images are not accepted here; send ${list}.`, {
      format: other,
      accepted,
    });
  }
  throw new VeilError('INVALID_IMAGE', `The file is not an image in an accepted format (${list}).`, { accepted });
}

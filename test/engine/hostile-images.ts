// Hostile and malformed inputs for the image gate, built from the shared real photos (no mocks).
// Shared by test/face/image-format.test.ts and test/security/hostile-images.test.ts.
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { face } from '../helpers.js';

export interface HostileInput {
  readonly name: string;
  readonly bytes: Buffer;
  /** The typed error decode() must give. */
  readonly code: 'INVALID_IMAGE' | 'UNSUPPORTED_IMAGE_FORMAT' | 'IMAGE_TOO_LARGE';
}

/**
 * The SVG from the finding: 1.5 KB that asks librsvg for twenty 7000x7000 rectangles, each through
 * four Gaussian blurs of radius 500. Rendering it kept libvips busy for over ten minutes.
 */
export function svgBomb(): Buffer {
  const rects = Array.from(
    { length: 20 },
    (_, i) =>
      `<rect width="7000" height="7000" fill="#${((i * 0x0c0c0c) & 0xffffff).toString(16).padStart(6, '0')}" filter="url(#b)"/>`,
  ).join('');
  const blur = '<feGaussianBlur stdDeviation="500"/>'.repeat(4);
  return Buffer.from(
    `<svg xmlns="http://www.w3.org/2000/svg" width="7000" height="7000"><defs><filter id="b">${blur}</filter></defs>${rects}</svg>`,
  );
}

/** A real JPEG from the shared photos. */
export const REAL_JPEG = 'deepface_small/id01/img1.jpg';
/** A real PNG from the shared photos. */
export const REAL_PNG = 'faceapi_bbt/amy/amy1.png';

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

function crc32(b: Uint8Array): number {
  let c = 0xffffffff;
  for (const x of b) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
}

/** A well-formed PNG (valid CRCs) whose IHDR claims width x height; the pixel data is a few rows of zeros. */
export function pngClaiming(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8; // bit depth
  ihdr[9] = 2; // RGB
  const idat = deflateSync(Buffer.alloc((width * 3 + 1) * 4));
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', idat),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** A real JPEG with its frame header (SOFn) rewritten to claim width x height. */
export function jpegClaiming(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  let i = 2;
  while (i + 9 < out.length && out[i] === 0xff) {
    const marker = out[i + 1]!;
    const len = out.readUInt16BE(i + 2);
    const isSof = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isSof) {
      out.writeUInt16BE(height, i + 5);
      out.writeUInt16BE(width, i + 7);
      return out;
    }
    i += 2 + len;
  }
  throw new Error('no SOF marker found');
}

/**
 * A baseline uncompressed RGB TIFF in either byte order (sharp always writes little-endian, so the
 * big-endian case is written by hand), from real pixels.
 */
export function tiff(rgb: Uint8Array, width: number, height: number, order: 'II' | 'MM'): Buffer {
  const le = order === 'II';
  const entries: [tag: number, type: number, count: number, value: number][] = [];
  const n = 10;
  const ifdSize = 2 + n * 12 + 4;
  const bpsAt = 8 + ifdSize;
  const dataAt = bpsAt + 6;
  entries.push(
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 3, bpsAt],
    [259, 3, 1, 1],
    [262, 3, 1, 2],
    [273, 4, 1, dataAt],
    [277, 3, 1, 3],
    [278, 4, 1, height],
    [279, 4, 1, rgb.length],
    [284, 3, 1, 1],
  );
  const buf = Buffer.alloc(dataAt + rgb.length);
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  buf.write(order, 0, 'latin1');
  v.setUint16(2, 42, le);
  v.setUint32(4, 8, le);
  v.setUint16(8, n, le);
  entries.forEach(([tag, type, count, value], k) => {
    const at = 10 + k * 12;
    v.setUint16(at, tag, le);
    v.setUint16(at + 2, type, le);
    v.setUint32(at + 4, count, le);
    // A single SHORT sits in the first two bytes of the value field, whatever the byte order.
    if (type === 3 && count === 1) v.setUint16(at + 8, value, le);
    else v.setUint32(at + 8, value, le);
  });
  v.setUint32(10 + n * 12, 0, le);
  for (let k = 0; k < 3; k++) v.setUint16(bpsAt + k * 2, 8, le);
  buf.set(rgb, dataAt);
  return buf;
}

/** Every input the gate must refuse, each with the code it must be refused with. */
export async function hostileCorpus(): Promise<HostileInput[]> {
  const jpeg = face(REAL_JPEG);
  const png = face(REAL_PNG);
  const svg = svgBomb();
  const avif = await sharp(png).avif().toBuffer();
  const bmpHeader = Buffer.alloc(54);
  bmpHeader.write('BM', 0, 'latin1');
  bmpHeader.writeUInt32LE(54, 10);
  bmpHeader.writeUInt32LE(40, 14);
  bmpHeader.writeInt32LE(7000, 18);
  bmpHeader.writeInt32LE(7000, 22);
  return [
    {
      name: 'SVG blur bomb (7000x7000, 20 rects, 4 x feGaussianBlur 500)',
      bytes: svg,
      code: 'UNSUPPORTED_IMAGE_FORMAT',
    },
    {
      name: 'SVG with an XML prolog and a BOM',
      bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0"?>\n'), svg]),
      code: 'UNSUPPORTED_IMAGE_FORMAT',
    },
    { name: 'empty file', bytes: Buffer.alloc(0), code: 'INVALID_IMAGE' },
    { name: 'JPEG magic only (FF D8 FF)', bytes: Buffer.from([0xff, 0xd8, 0xff]), code: 'INVALID_IMAGE' },
    { name: 'PNG signature only', bytes: png.subarray(0, 8), code: 'INVALID_IMAGE' },
    { name: 'truncated JPEG (first half)', bytes: jpeg.subarray(0, jpeg.length >> 1), code: 'INVALID_IMAGE' },
    {
      name: 'polyglot: JPEG magic followed by the SVG',
      bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), svg]),
      code: 'INVALID_IMAGE',
    },
    {
      name: 'polyglot: PNG signature followed by HTML',
      bytes: Buffer.concat([png.subarray(0, 8), Buffer.from('<html><body><script>alert(1)</script></body></html>')]),
      code: 'INVALID_IMAGE',
    },
    {
      name: 'polyglot: GIF header followed by script',
      bytes: Buffer.from('GIF89a/*\x00\x00*/=1;alert(1);'),
      code: 'INVALID_IMAGE',
    },
    { name: 'PNG claiming 100000x100000 in its IHDR', bytes: pngClaiming(100_000, 100_000), code: 'IMAGE_TOO_LARGE' },
    {
      name: 'real JPEG with a header claiming 60000x60000',
      bytes: jpegClaiming(jpeg, 60_000, 60_000),
      code: 'IMAGE_TOO_LARGE',
    },
    { name: 'plain text', bytes: Buffer.from('this is not an image\n'), code: 'INVALID_IMAGE' },
    { name: 'HTML page', bytes: Buffer.from('<!doctype html><html><p>hello</p></html>'), code: 'INVALID_IMAGE' },
    { name: 'AVIF (a real photo, encoded by sharp)', bytes: avif, code: 'UNSUPPORTED_IMAGE_FORMAT' },
    { name: 'BMP header claiming 7000x7000', bytes: bmpHeader, code: 'UNSUPPORTED_IMAGE_FORMAT' },
    { name: 'PDF', bytes: Buffer.from('%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n'), code: 'UNSUPPORTED_IMAGE_FORMAT' },
  ];
}

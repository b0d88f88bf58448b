import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import {
  IMAGE_FORMATS,
  PUBLIC_IMAGE_FORMATS,
  describeUnsupported,
  narrowFormats,
  parseImageFormats,
  sniffImageFormat,
  type ImageFormat,
} from '../../src/face/image-format.js';
import { decode, DEFAULT_DECODE_OPTIONS } from '../../src/face/image.js';
import { isVeilError } from '../../src/errors.js';
import { face } from '../helpers.js';
import { REAL_JPEG, REAL_PNG, hostileCorpus, svgBomb, tiff } from './hostile-images.js';

/** One real photo in every accepted format (GIF, WebP and TIFF made from it with sharp; big-endian TIFF by hand). */
async function realSamples(): Promise<{ name: string; format: ImageFormat; bytes: Buffer }[]> {
  const png = face(REAL_PNG);
  const small = await sharp(png).resize(64, 48).removeAlpha().raw().toBuffer();
  return [
    { name: 'JPEG photo', format: 'jpeg', bytes: face(REAL_JPEG) },
    {
      name: 'JPEG photo (.jpeg)',
      format: 'jpeg',
      bytes: face('face_recognition/kit_harington/knn_train_kit_harington_john1.jpeg'),
    },
    { name: 'PNG photo', format: 'png', bytes: png },
    { name: '32-bit PNG', format: 'png', bytes: face('face_recognition/_format_test/test_32bit.png') },
    { name: 'GIF', format: 'gif', bytes: await sharp(png).gif().toBuffer() },
    { name: 'WebP lossy', format: 'webp', bytes: await sharp(png).webp().toBuffer() },
    { name: 'WebP lossless', format: 'webp', bytes: await sharp(png).webp({ lossless: true }).toBuffer() },
    { name: 'TIFF (sharp, little-endian)', format: 'tiff', bytes: await sharp(png).tiff().toBuffer() },
    { name: 'TIFF little-endian (II)', format: 'tiff', bytes: tiff(small, 64, 48, 'II') },
    { name: 'TIFF big-endian (MM)', format: 'tiff', bytes: tiff(small, 64, 48, 'MM') },
  ];
}

/** How often `fn` made sharp read a header (metadata) and decode pixels (toBuffer): the work a refusal cost. */
async function work<T>(fn: () => Promise<T>): Promise<{ result: T; headers: number; decodes: number }> {
  type Method = (this: unknown, ...a: unknown[]) => unknown;
  const proto = sharp.prototype as { metadata: Method; toBuffer: Method };
  const { metadata, toBuffer } = proto;
  const n = { headers: 0, decodes: 0 };
  proto.metadata = function (...a) {
    n.headers++;
    return metadata.apply(this, a);
  };
  proto.toBuffer = function (...a) {
    n.decodes++;
    return toBuffer.apply(this, a);
  };
  try {
    return { result: await fn(), ...n };
  } finally {
    Object.assign(proto, { metadata, toBuffer });
  }
}

async function refusal(p: Promise<unknown>): Promise<{ code: string; ms: number; message: string }> {
  const t0 = performance.now();
  try {
    await p;
  } catch (e) {
    assert.ok(isVeilError(e), `expected a VeilError, got ${String(e)}`);
    return { code: e.code, ms: performance.now() - t0, message: e.message };
  }
  return { code: 'ACCEPTED', ms: performance.now() - t0, message: '' };
}

describe('sniffImageFormat', () => {
  test('recognises each accepted format from the first bytes of real files', async () => {
    for (const s of await realSamples()) assert.equal(sniffImageFormat(s.bytes), s.format, s.name);
  });

  test('the magic alone is enough to sniff (the decoder decides the rest)', () => {
    assert.equal(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff])), 'jpeg');
    assert.equal(sniffImageFormat(face(REAL_PNG).subarray(0, 8)), 'png');
    assert.equal(sniffImageFormat(Buffer.from('GIF87a')), 'gif');
    assert.equal(sniffImageFormat(Buffer.from('II*\0')), 'tiff');
    assert.equal(sniffImageFormat(Buffer.from('MM\0*')), 'tiff');
  });

  test('returns null for everything else', async () => {
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array()],
      ['one byte of JPEG magic', Buffer.from([0xff])],
      ['two bytes of JPEG magic', Buffer.from([0xff, 0xd8])],
      ['SVG', svgBomb()],
      ['text', Buffer.from('hello')],
      ['AVIF', await sharp(face(REAL_PNG)).avif().toBuffer()],
      ['HEIF-branded ftyp', Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic')],
      ['BMP', Buffer.from('BM\0\0\0\0')],
      ['PDF', Buffer.from('%PDF-1.4')],
      ['RIFF that is not WebP (WAV)', Buffer.from('RIFF\x24\0\0\0WAVEfmt ')],
      ['RIFF WEBP with an unknown chunk', Buffer.from('RIFF\x24\0\0\0WEBPVP8Q')],
      ['BigTIFF', Buffer.from('II+\0\x08\0\0\0')],
      ['GIF-like but wrong version', Buffer.from('GIF88a')],
      ['PNG signature with one byte wrong', Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0b])],
    ];
    for (const [name, bytes] of cases) assert.equal(sniffImageFormat(bytes), null, name);
  });

  test('names well-known formats it refuses, for the error message only', async () => {
    assert.equal(describeUnsupported(svgBomb()), 'SVG');
    assert.equal(describeUnsupported(Buffer.from('  \n<?xml version="1.0"?><svg xmlns="x"/>')), 'SVG');
    assert.equal(describeUnsupported(await sharp(face(REAL_PNG)).avif().toBuffer()), 'AVIF');
    assert.equal(describeUnsupported(Buffer.from('\0\0\0\x18ftypheic\0\0\0\0mif1heic')), 'HEIF');
    assert.equal(describeUnsupported(Buffer.from('%PDF-1.4')), 'PDF');
    const bmp = Buffer.alloc(54);
    bmp.write('BM');
    bmp.writeUInt32LE(40, 14);
    assert.equal(describeUnsupported(bmp), 'BMP');
    assert.equal(describeUnsupported(Buffer.from('BMW is a car, and this is text.')), null);
    assert.equal(describeUnsupported(Buffer.from('hello, world')), null);
    assert.equal(describeUnsupported(Buffer.from('<html><p>no vector here</p></html>')), null);
  });
});

describe('format lists', () => {
  test('names are case-insensitive with jpg/tif aliases; unknown names are a programming error', () => {
    assert.deepEqual(parseImageFormats(['JPEG', 'jpg', 'PNG', 'WebP']), ['jpeg', 'png', 'webp']);
    assert.deepEqual(parseImageFormats(['tif']), ['tiff']);
    assert.throws(() => parseImageFormats(['svg']), TypeError);
    assert.throws(() => parseImageFormats([]), TypeError);
  });

  test('a caller can only narrow what the engine accepts', () => {
    assert.deepEqual(narrowFormats(undefined, undefined), [...IMAGE_FORMATS]);
    assert.deepEqual(narrowFormats(undefined, ['webp', 'jpeg']), ['jpeg', 'webp']);
    assert.deepEqual(narrowFormats(['jpeg', 'png'], ['png', 'gif']), ['png']);
  });
});

describe('decode() accepts the five formats and nothing else', () => {
  test('every real sample decodes, and the decoder agrees with the sniff', async () => {
    for (const s of await realSamples()) {
      const img = await decode(s.bytes);
      assert.equal(img.format, s.format, s.name);
      assert.ok(img.width > 0 && img.height > 0 && img.data.length === img.width * img.height * 3, s.name);
    }
  });

  test('the hand-written TIFFs carry the same pixels in both byte orders', async () => {
    const rgb = await sharp(face(REAL_PNG)).resize(64, 48).removeAlpha().raw().toBuffer();
    const le = await decode(tiff(rgb, 64, 48, 'II'));
    const be = await decode(tiff(rgb, 64, 48, 'MM'));
    assert.deepEqual(Buffer.from(le.data), rgb);
    assert.deepEqual(Buffer.from(be.data), rgb);
  });

  test('animated GIF and WebP give their first frame, multi-page TIFF its first page', async () => {
    const a = await sharp(face(REAL_PNG)).resize(120, 100).png().toBuffer();
    const b = await sharp({ create: { width: 120, height: 100, channels: 3, background: '#f00' } })
      .png()
      .toBuffer();
    for (const f of ['gif', 'webp', 'tiff'] as const) {
      const multi = await sharp([a, b], { join: { animated: true } })
        [f]()
        .toBuffer();
      assert.equal((await sharp(multi, { pages: -1 }).metadata()).pages, 2, f);
      const img = await decode(multi);
      assert.equal(img.format, f);
      assert.deepEqual([img.width, img.height], [120, 100], `${f}: one frame, not the strip of all frames`);
      // The first frame is the photo (greyish), not the red second frame.
      const [r, g] = [img.data[0]!, img.data[1]!];
      assert.ok(Math.abs(r - g) < 40, `${f}: first pixel ${r},${g} looks like the second (red) frame`);
    }
  });

  // Bounded work, not a clock (the times are diagnostics): bytes the sniff refuses never reach libvips;
  // an image over the pixel limit is refused from its header, before any pixel is decoded; the rest
  // are at most one decode of the few bytes they have.
  test('hostile and malformed inputs get their typed error, each after bounded work', async (t) => {
    for (const h of await hostileCorpus()) {
      const { result: r, headers, decodes } = await work(() => refusal(decode(h.bytes)));
      t.diagnostic(`${h.name}: ${h.bytes.length} bytes, ${r.code} in ${r.ms.toFixed(1)} ms`);
      assert.equal(r.code, h.code, `${h.name}: ${r.message}`);
      if (sniffImageFormat(h.bytes) === null) assert.deepEqual([headers, decodes], [0, 0], `${h.name} reached libvips`);
      else if (h.code === 'IMAGE_TOO_LARGE') assert.equal(decodes, 0, `${h.name}: pixels decoded`);
      else assert.ok(decodes <= 1, `${h.name}: ${decodes} decodes`);
      assert.doesNotMatch(r.message, /vips|sharp|\n\s+at /i, `${h.name}: decoder internals leak: ${r.message}`);
    }
  });

  test('a caller can narrow the formats: TIFF and GIF are refused where only JPEG, PNG and WebP are taken', async () => {
    const png = face(REAL_PNG);
    const narrow = { ...DEFAULT_DECODE_OPTIONS, formats: PUBLIC_IMAGE_FORMATS };
    for (const bytes of [await sharp(png).tiff().toBuffer(), await sharp(png).gif().toBuffer()]) {
      const r = await refusal(decode(bytes, narrow));
      assert.equal(r.code, 'UNSUPPORTED_IMAGE_FORMAT');
      assert.match(r.message, /send JPEG, PNG or WebP/);
    }
    assert.equal((await decode(await sharp(png).webp().toBuffer(), narrow)).format, 'webp');
    assert.equal((await decode(face(REAL_JPEG), narrow)).format, 'jpeg');
  });

  test('sharp itself no longer loads other formats in this process, even if the sniff were skipped', async () => {
    // Loading image.ts blocked every libvips loader but the five.
    const tinySvg = Buffer.from(
      '<svg xmlns="http://www.w3.org/2000/svg" width="8" height="8"><rect width="8" height="8"/></svg>',
    );
    await assert.rejects(sharp(tinySvg).metadata(), /unsupported image format/);
    await assert.rejects(sharp(await sharp(face(REAL_PNG)).avif().toBuffer()).metadata(), /unsupported image format/);
    assert.equal((await sharp(face(REAL_JPEG)).metadata()).format, 'jpeg');
  });

  test('a photo just over the pixel limit is refused from its header, before any pixel is decoded', async () => {
    const { result: r, decodes } = await work(() =>
      refusal(decode(face(REAL_JPEG), { ...DEFAULT_DECODE_OPTIONS, maxPixels: 473 * 640 - 1 })),
    );
    assert.equal(r.code, 'IMAGE_TOO_LARGE');
    assert.equal(decodes, 0);
    assert.equal((await decode(face(REAL_JPEG), { ...DEFAULT_DECODE_OPTIONS, maxPixels: 473 * 640 })).width, 473);
  });
});

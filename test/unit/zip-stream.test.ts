import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { strToU8, unzipSync } from 'fflate';
import { writeZip, type ZipEntry } from '../../src/rights/zip-stream.js';

async function* from(entries: ZipEntry[]) {
  yield entries.slice(0, 1);
  yield entries.slice(1);
}

/** The central directory's records: name, method, CRC, sizes and where the local header is. */
function directory(zip: Buffer) {
  const end = zip.length - 22;
  assert.equal(zip.readUInt32LE(end), 0x06054b50);
  const count = zip.readUInt16LE(end + 10);
  const out = [];
  for (let at = zip.readUInt32LE(end + 16), i = 0; i < count; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50);
    const nameLength = zip.readUInt16LE(at + 28);
    out.push({
      name: zip.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
      method: zip.readUInt16LE(at + 10),
      crc: zip.readUInt32LE(at + 16),
      compressed: zip.readUInt32LE(at + 20),
      size: zip.readUInt32LE(at + 24),
      local: zip.readUInt32LE(at + 42),
    });
    at += 46 + nameLength;
  }
  return out;
}

test('entries stream out in order: JPEGs stored byte for byte, text deflated, every CRC and offset right', async () => {
  const jpeg = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(5000)]);
  const manifest = strToU8(JSON.stringify({ a: 'x'.repeat(4000), name: 'Zoë' }));
  const chunks: Uint8Array[] = [];
  const n = await writeZip(
    from([
      { name: 'manifest.json', bytes: manifest },
      { name: 'sub/photos/é-1.jpg', bytes: jpeg },
      { name: 'empty.jpg', bytes: new Uint8Array(0) },
    ]),
    (c) => chunks.push(c),
    new Date('2026-12-01T17:30:10Z'),
  );
  assert.equal(n, 3);
  assert.ok(chunks.length >= 6, 'written piece by piece, not built whole');
  const zip = Buffer.concat(chunks);
  const dir = directory(zip);
  assert.deepEqual(
    dir.map((d) => [d.name, d.method]),
    [
      ['manifest.json', 8],
      ['sub/photos/é-1.jpg', 0],
      ['empty.jpg', 0],
    ],
  );
  assert.ok(dir[0]!.compressed < manifest.length / 10, 'the manifest is deflated');
  assert.equal(dir[0]!.crc, crc32(manifest));
  assert.equal(dir[1]!.crc, crc32(jpeg));
  assert.equal(dir[1]!.compressed, jpeg.length);
  // The stored JPEG sits right after its local header and name.
  const at = dir[1]!.local + 30 + Buffer.byteLength('sub/photos/é-1.jpg');
  assert.ok(zip.subarray(at, at + jpeg.length).equals(jpeg));
  for (const d of dir) assert.equal(zip.readUInt32LE(d.local), 0x04034b50, `${d.name}: local header`);
  // Another reader agrees.
  const back = unzipSync(new Uint8Array(zip));
  assert.deepEqual(Object.keys(back), ['manifest.json', 'sub/photos/é-1.jpg', 'empty.jpg']);
  assert.ok(Buffer.from(back['manifest.json']!).equals(Buffer.from(manifest)));
  assert.ok(Buffer.from(back['sub/photos/é-1.jpg']!).equals(jpeg));
});

test('a failing source stops the ZIP with its error', async () => {
  async function* broken() {
    yield [{ name: 'a.jpg', bytes: new Uint8Array(3) }];
    throw new Error('crop failed');
  }
  await assert.rejects(
    writeZip(broken(), () => undefined),
    /crop failed/,
  );
});

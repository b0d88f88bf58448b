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

// Past 65,535 entries the classic end record cannot hold the count: the ZIP64 end record must, and another reader must find it.
test('more than 65,535 entries: a ZIP64 end record another reader follows', async () => {
  const count = 70_000;
  async function* many() {
    for (let i = 0; i < count; i += 1000)
      yield Array.from({ length: 1000 }, (_, j) => ({ name: `p/${i + j}.jpg`, bytes: Uint8Array.of((i + j) & 0xff) }));
  }
  const chunks: Uint8Array[] = [];
  assert.equal(await writeZip(many(), (c) => chunks.push(c)), count);
  const zip = Buffer.concat(chunks);
  const end = zip.length - 22;
  assert.equal(zip.readUInt16LE(end + 10), 0xffff, 'the classic count says: see ZIP64');
  assert.equal(zip.readUInt32LE(end - 20), 0x07064b50, 'the locator precedes the classic end');
  const record = Number(zip.readBigUInt64LE(end - 12));
  assert.equal(zip.readUInt32LE(record), 0x06064b50);
  assert.equal(Number(zip.readBigUInt64LE(record + 32)), count);
  const back = unzipSync(new Uint8Array(zip));
  assert.equal(Object.keys(back).length, count);
  assert.deepEqual([...back['p/69999.jpg']!], [69_999 & 0xff]);
});

// Entries that start past 4 GiB carry their offset in a ZIP64 extra field. Writing 4 GiB in a unit
// test is too slow, so the limit is lowered: the same fields, the same reader.
test('entries past the offset limit carry ZIP64 offsets, and the archive reads back whole', async () => {
  const photos = Array.from({ length: 6 }, (_, i) => ({
    name: `photos/${i}.jpg`,
    bytes: Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), randomBytes(700)]),
  }));
  const text = { name: 'manifest.json', bytes: strToU8('{"sightings":6}'.repeat(50)) };
  const chunks: Uint8Array[] = [];
  await writeZip(from([text, ...photos]), (c) => chunks.push(c), new Date(), { offset: 1500, entries: 0xffff });
  const zip = Buffer.concat(chunks);
  const end = zip.length - 22;
  assert.equal(zip.readUInt32LE(end + 16), 0xffffffff, 'the directory starts past the limit: its offset is in ZIP64');
  const record = Number(zip.readBigUInt64LE(end - 12));
  let at = Number(zip.readBigUInt64LE(record + 48));
  const offsets: number[] = [];
  for (let i = 0; i < 7; i++) {
    assert.equal(zip.readUInt32LE(at), 0x02014b50);
    const [nameLength, extraLength] = [zip.readUInt16LE(at + 28), zip.readUInt16LE(at + 30)];
    const local = zip.readUInt32LE(at + 42);
    const offset = local === 0xffffffff ? Number(zip.readBigUInt64LE(at + 46 + nameLength + 4)) : local;
    assert.equal(local === 0xffffffff, offset >= 1500, `entry ${i}: ZIP64 exactly when past the limit`);
    assert.equal(zip.readUInt32LE(offset), 0x04034b50, `entry ${i}: its local header`);
    offsets.push(offset);
    at += 46 + nameLength + extraLength;
  }
  assert.ok(offsets.some((o) => o < 1500) && offsets.some((o) => o >= 1500), 'both kinds of entry were written');
  const back = unzipSync(new Uint8Array(zip));
  assert.ok(Buffer.from(back['manifest.json']!).equals(Buffer.from(text.bytes)));
  for (const p of photos) assert.ok(Buffer.from(back[p.name]!).equals(p.bytes), p.name);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { seal } from '../../src/privacy/keys.js';
import {
  isSegmented,
  openSealedFile,
  openSegments,
  readSealedFile,
  SegmentSealer,
  sealSegmented,
} from '../../src/privacy/sealed-segments.js';
import { tempDir } from '../helpers.js';

const key = randomBytes(32);
const AAD = 'veil.export:art_1';

/** Sealed with 1 KiB segments, pushed in uneven pieces as a ZIP writer hands them over. */
function sealedInPieces(plain: Buffer, segment = 1024): { bytes: Buffer; pieces: Buffer[] } {
  const pieces: Buffer[] = [];
  const s = new SegmentSealer(key, AAD, (p) => pieces.push(Buffer.from(p)), segment);
  for (let at = 0; at < plain.length; at += 333) s.push(plain.subarray(at, at + 333));
  s.end();
  return { bytes: Buffer.concat(pieces), pieces };
}

const collect = async (it: AsyncIterable<Buffer>) => {
  const out: Buffer[] = [];
  for await (const b of it) out.push(b);
  return out;
};

test('segments open back to the bytes pushed, in memory and from a file a segment at a time', async () => {
  for (const n of [0, 1, 1023, 1024, 1025, 5000]) {
    const plain = randomBytes(n);
    const { bytes } = sealedInPieces(plain);
    assert.ok(isSegmented(bytes));
    assert.ok(!bytes.includes(plain.subarray(0, Math.min(n, 32))) || n === 0, 'no clear bytes');
    assert.ok(openSealedFile(key, bytes, AAD).equals(plain), `${n} bytes`);
    assert.equal([...openSegments(key, bytes, AAD)].length, Math.floor(n / 1024) + 1);
    const file = join(tempDir('veil-seg-'), 'f.sealed');
    writeFileSync(file, bytes);
    const chunks = await collect(readSealedFile(key, file, AAD));
    assert.ok(Buffer.concat(chunks).equals(plain));
    assert.ok(chunks.every((c) => c.length <= 1024));
  }
});

test('a truncated, reordered or altered file fails; another AAD or key fails', async () => {
  const plain = randomBytes(3000);
  const { bytes, pieces } = sealedInPieces(plain);
  // pieces: magic, then (length, segment) pairs: 3 segments of 1024, 1024, 952 bytes.
  assert.equal(pieces.length, 7);
  const cut = Buffer.concat(pieces.slice(0, 5)); // the last segment dropped: ends on a "more" segment
  assert.throws(() => openSealedFile(key, cut, AAD), { code: 'KEY_DESTROYED' });
  const swapped = Buffer.concat([pieces[0]!, pieces[3]!, pieces[4]!, pieces[1]!, pieces[2]!, pieces[5]!, pieces[6]!]);
  assert.throws(() => openSealedFile(key, swapped, AAD), { code: 'KEY_DESTROYED' });
  const flipped = Buffer.from(bytes);
  flipped[flipped.length - 20]! ^= 1;
  assert.throws(() => openSealedFile(key, flipped, AAD), { code: 'KEY_DESTROYED' });
  assert.throws(() => openSealedFile(key, bytes.subarray(0, bytes.length - 1), AAD), { code: 'KEY_DESTROYED' });
  assert.throws(() => openSealedFile(key, bytes, 'veil.export:art_2'), { code: 'KEY_DESTROYED' });
  assert.throws(() => openSealedFile(randomBytes(32), bytes, AAD), { code: 'KEY_DESTROYED' });
  const file = join(tempDir('veil-seg-'), 'cut.sealed');
  writeFileSync(file, cut);
  await assert.rejects(collect(readSealedFile(key, file, AAD)), { code: 'KEY_DESTROYED' });
});

test('a file sealed whole before exports were streamed still opens; sealSegmented matches the streamed layout', async () => {
  const plain = randomBytes(2000);
  const legacy = seal(key, plain, AAD);
  assert.ok(!isSegmented(legacy));
  assert.ok(openSealedFile(key, legacy, AAD).equals(plain));
  const file = join(tempDir('veil-seg-'), 'old.sealed');
  writeFileSync(file, legacy);
  assert.ok(Buffer.concat(await collect(readSealedFile(key, file, AAD))).equals(plain));
  const whole = sealSegmented(key, plain, AAD);
  assert.ok(isSegmented(whole));
  assert.ok(openSealedFile(key, whole, AAD).equals(plain));
});

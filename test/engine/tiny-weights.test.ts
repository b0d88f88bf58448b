import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../../src/face/engine.js';
import { DEFAULT_MODELS_DIR, MODELS } from '../../src/face/models.js';
import { TINY_WEIGHT, flushTinyWeights } from '../../src/face/tiny-weights.js';
import { face } from '../helpers.js';

const model = (m: keyof typeof MODELS) => readFileSync(join(DEFAULT_MODELS_DIR, MODELS[m].file));

test('the shipped embedder and landmark model carry weights below 1e-15; a flushed copy has none left', () => {
  for (const m of ['embedder', 'landmarks'] as const) {
    const bytes = model(m);
    const before = Buffer.from(bytes);
    const { bytes: out, flushed } = flushTinyWeights(bytes);
    assert.ok(flushed > 20_000, `${m}: ${flushed} weights flushed`);
    assert.equal(out.length, bytes.length, `${m}: the protobuf keeps its length`);
    assert.ok(before.equals(bytes), `${m}: the original bytes are not modified`);
    assert.equal(flushTinyWeights(out).flushed, 0, `${m}: nothing left below ${TINY_WEIGHT}`);
  }
  // The detector has no such weights: it is loaded byte for byte as shipped.
  const det = model('detector');
  const { bytes, flushed } = flushTinyWeights(det);
  assert.equal(flushed, 0);
  assert.ok(Buffer.from(bytes).equals(det));
});

test('a model cut short is refused, never loaded half-flushed', () => {
  const bytes = model('embedder');
  assert.throws(() => flushTinyWeights(bytes.subarray(0, Math.floor(bytes.length / 2))), /truncated protobuf/);
});

test('flushing the tiny weights changes no result: the same faces and bit-identical embeddings', async () => {
  const [flushed, shipped] = await Promise.all([FaceEngine.create(), FaceEngine.create({ flushTinyWeights: false })]);
  const photos = [
    'deepface_small/id01/img1.jpg',
    'deepface_small/id07/img20.jpg',
    'faceapi_bbt/_group_photos/bbt1.jpg',
    'faceapi_bbt/amy/amy1.png',
    'face_recognition/obama/test_obama.jpg',
  ];
  for (const f of photos) {
    const a = await flushed.analyze(face(f));
    const b = await shipped.analyze(face(f));
    assert.ok(a.faces.length > 0, f);
    assert.deepEqual(
      a.faces.map((x) => [x.box, x.landmarks, x.quality]),
      b.faces.map((x) => [x.box, x.landmarks, x.quality]),
      f,
    );
    for (let i = 0; i < a.faces.length; i++)
      assert.deepEqual(Array.from(a.faces[i]!.embedding), Array.from(b.faces[i]!.embedding), `${f} face ${i}`);
  }
});

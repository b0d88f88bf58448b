import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaceEngine } from '../../src/face/engine.js';
import { ort } from '../../src/face/models.js';
import { face } from '../helpers.js';

/** ONNX inferences run while `fn` runs, counted by model input shape (detector, landmarks, embedder). */
async function inferences<T>(fn: () => Promise<T>): Promise<{ value: T; shapes: Map<string, number> }> {
  type Run = (...a: unknown[]) => Promise<unknown>;
  const proto = (ort.InferenceSession as unknown as { prototype: { run: Run } }).prototype;
  const run = proto.run;
  const shapes = new Map<string, number>();
  proto.run = function (this: unknown, ...a: unknown[]) {
    const feeds = a[0] as Record<string, { dims: readonly number[] }>;
    const k = Object.values(feeds)
      .map((t) => t.dims.join('x'))
      .join(',');
    shapes.set(k, (shapes.get(k) ?? 0) + 1);
    return run.apply(this, a);
  };
  try {
    return { value: await fn(), shapes };
  } finally {
    proto.run = run;
  }
}

test('create() runs every model of a one-face photo once per warm-up pass before it resolves', async () => {
  const warm = await inferences(() => FaceEngine.create({ warmUp: 3 }));
  // Per pass: the detector on the whole frame, the landmark model twice (two passes), the embedder once.
  assert.deepEqual(Object.fromEntries(warm.shapes), { '1x3x240x320': 3, '1x1x64x64': 6, '1x3x112x112': 3 });
  const cold = await inferences(() => FaceEngine.create({ warmUp: 0 }));
  assert.equal(cold.shapes.size, 0);
});

test('the warm-up changes no result: the same faces and bit-identical embeddings as a cold engine', async () => {
  const [warm, cold] = await Promise.all([FaceEngine.create({ warmUp: 4 }), FaceEngine.create({ warmUp: 0 })]);
  for (const f of ['deepface_small/id01/img1.jpg', 'faceapi_bbt/_group_photos/bbt1.jpg', 'faceapi_bbt/amy/amy1.png']) {
    const a = await warm.analyze(face(f));
    const b = await cold.analyze(face(f));
    assert.ok(a.faces.length > 0, f);
    assert.deepEqual(
      a.faces.map((x) => x.box),
      b.faces.map((x) => x.box),
      f,
    );
    for (let i = 0; i < a.faces.length; i++) {
      assert.deepEqual(Array.from(a.faces[i]!.embedding), Array.from(b.faces[i]!.embedding), `${f} face ${i}`);
    }
  }
});

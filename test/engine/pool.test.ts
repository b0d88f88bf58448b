import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EnginePool } from '../../src/face/engine.pool.js';
import { cosine } from '../../src/face/embedder.js';
import { isVeilError } from '../../src/errors.js';
import { face } from '../helpers.js';

test('the worker pool answers concurrent requests with the same results as one engine, and refuses past its queue', async () => {
  const pool = await EnginePool.create({ size: 2, maxQueue: 4 });
  try {
    const a = face('faceapi_bbt/amy/amy1.png');
    const results = await Promise.all(Array.from({ length: 6 }, () => pool.analyze(a)));
    for (const r of results) assert.ok(cosine(r.faces[0]!.embedding, results[0]!.faces[0]!.embedding) > 0.9999);
    // 2 running + 4 queued fit; the 7th and later are refused at once with a typed error.
    const burst = Array.from({ length: 9 }, () =>
      pool.analyze(a).then(
        () => 'ok',
        (e) => (isVeilError(e) ? e.code : 'other'),
      ),
    );
    const codes = await Promise.all(burst);
    assert.equal(codes.filter((c) => c === 'ok').length, 6);
    assert.equal(codes.filter((c) => c === 'ENGINE_OVERLOADED').length, 3);
    const bad = await pool.analyze(Buffer.from('nope')).catch((e) => e);
    assert.equal(bad.code, 'INVALID_IMAGE');
  } finally {
    await pool.close();
  }
});

test('a request that outlives the timeout fails with ENGINE_TIMEOUT and the pool keeps serving', async () => {
  const pool = await EnginePool.create({ size: 1, timeoutMs: 1 });
  try {
    const err = await pool.analyze(face('compreface/personA_sample/05.A.jpg')).catch((e) => e);
    assert.equal(err.code, 'ENGINE_TIMEOUT');
  } finally {
    await pool.close();
  }
  const pool2 = await EnginePool.create({ size: 1 });
  try {
    const r = await pool2.analyze(face('faceapi_bbt/amy/amy1.png'));
    assert.equal(r.faces.length, 1);
  } finally {
    await pool2.close();
  }
});

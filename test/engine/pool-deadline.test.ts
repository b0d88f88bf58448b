import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { EnginePool } from '../../src/face/engine.pool.js';
import { isVeilError } from '../../src/errors.js';
import { face } from '../helpers.js';
import { REAL_JPEG, svgBomb } from './hostile-images.js';

/** Per-request deadline for these pools: a normal photo takes tens of ms, the slow one well over a second. */
const TIMEOUT_MS = 500;

/**
 * A legitimate but slow photo: a 7000 px wide PNG tiled with a real group photo, so the worker spends
 * over a second in libvips decoding it and in ONNX Runtime on its ~30 faces.
 */
async function slowPhoto(): Promise<Buffer> {
  const src = face('face_recognition/_multi_face/knn_test_obama_and_biden.jpg');
  const cols = 5;
  const w = 1400;
  const h = 1000;
  const tile = await sharp(src).resize(w, h, { fit: 'fill' }).raw().toBuffer();
  const composites = [];
  for (let y = 0; y < 7; y++)
    for (let x = 0; x < cols; x++)
      composites.push({ input: tile, raw: { width: w, height: h, channels: 3 as const }, left: x * w, top: y * h });
  return sharp({ create: { width: cols * w, height: 7 * h, channels: 3, background: '#777' } })
    .composite(composites)
    .png({ compressionLevel: 1 })
    .toBuffer();
}

interface Outcome {
  code: string;
  ms: number;
  stage?: unknown;
  /** Workers serving when it was answered. */
  serving: number;
}

/**
 * Runs one call and reports its outcome, the time from its own submission (where its deadline
 * starts) and how many workers of `pool` were serving when it was answered.
 */
function timed(pool: EnginePool, call: () => Promise<unknown>): Promise<Outcome> {
  const t0 = performance.now();
  return call().then(
    () => ({ code: 'OK', ms: performance.now() - t0, serving: pool.size }),
    (e) => ({
      code: isVeilError(e) ? e.code : String(e),
      ms: performance.now() - t0,
      stage: isVeilError(e) ? e.details?.['stage'] : undefined,
      serving: pool.size,
    }),
  );
}

async function until(cond: () => boolean, limitMs: number): Promise<number> {
  const t0 = performance.now();
  while (!cond()) {
    if (performance.now() - t0 > limitMs) throw new Error(`condition not met within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return performance.now() - t0;
}

test('jobs queued behind a slow one answer ENGINE_TIMEOUT by their deadline; the overrunning worker is replaced and the pool serves again', async (t) => {
  const slow = await slowPhoto();
  const normal = face(REAL_JPEG);
  const pool = await EnginePool.create({ size: 1, maxQueue: 8, timeoutMs: TIMEOUT_MS, closeTimeoutMs: 2_000 });
  try {
    const running = timed(pool, () => pool.analyze(slow));
    const queued = [0, 1, 2].map(() => timed(pool, () => pool.detect(normal)));
    const all = await Promise.all([running, ...queued]);
    all.forEach((o, i) =>
      t.diagnostic(`job ${i} (${i === 0 ? 'slow, running' : 'queued'}): ${o.code} after ${o.ms.toFixed(0)} ms`),
    );
    for (const o of all) {
      assert.equal(o.code, 'ENGINE_TIMEOUT');
      // Answered at the deadline counted from submission, not before it.
      assert.ok(o.ms >= TIMEOUT_MS - 5, `answered after ${o.ms} ms, before the ${TIMEOUT_MS} ms deadline`);
    }
    assert.equal(all[0]!.stage, 'running');
    // By their own deadlines, not by a worker coming free: the slow one's was retired at its deadline
    // (just before theirs, set after it) and its replacement had not loaded yet when they were answered.
    for (const o of all.slice(1)) assert.deepEqual([o.stage, o.serving], ['queued', 0]);

    // The slow job overran: its worker was terminated and a fresh one loaded in its place.
    const recovery = await until(() => pool.replacements === 1 && pool.size === 1, 30_000);
    t.diagnostic(`replacement worker serving ${recovery.toFixed(0)} ms after the deadline`);
    // It takes jobs and answers them: one its decoder refuses at once (the pool's check passes a JPEG's
    // first bytes). A photo's first call on a fresh worker can outlast this short deadline on a loaded machine.
    const answered = await pool.analyze(normal.subarray(0, 400)).catch((e: unknown) => e);
    assert.ok(isVeilError(answered, 'INVALID_IMAGE'), String(answered));
  } finally {
    // That close() is bounded is the last test's; here its time is a diagnostic.
    const c0 = performance.now();
    await pool.close();
    t.diagnostic(`close() took ${(performance.now() - c0).toFixed(0)} ms`);
  }
});

test('bytes that are not an accepted image are refused before the queue, even when it is full', async () => {
  const pool = await EnginePool.create({ size: 1, maxQueue: 1, timeoutMs: 10_000 });
  try {
    const slow = await slowPhoto();
    let held = true;
    const busy = pool
      .analyze(slow)
      .catch((e) => e)
      .finally(() => (held = false));
    const waiting = pool.analyze(face(REAL_JPEG)).catch((e) => e);
    // The queue is full now: a valid photo is refused as overload, hostile bytes by their format at once.
    const over = await pool.analyze(face(REAL_JPEG)).catch((e) => e);
    assert.equal(over.code, 'ENGINE_OVERLOADED');
    const gifBytes = await sharp(face(REAL_JPEG)).gif().toBuffer();
    assert.ok(held, 'the busy worker still holds the slow photo');
    const svg = await pool.detect(svgBomb()).catch((e) => e);
    assert.equal(svg.code, 'UNSUPPORTED_IMAGE_FORMAT');
    const junk = await pool.detect(Buffer.from('not an image')).catch((e) => e);
    assert.equal(junk.code, 'INVALID_IMAGE');
    // A call can narrow the formats; the pool applies the narrowed list.
    const gif = await pool.detect(gifBytes, { formats: ['jpeg', 'png', 'webp'] }).catch((e) => e);
    assert.equal(gif.code, 'UNSUPPORTED_IMAGE_FORMAT');
    assert.ok(held, 'refused without waiting for the busy worker');
    assert.equal(pool.queued, 1);
    await Promise.all([busy, waiting]);
  } finally {
    await pool.close();
  }
});

test('a per-call format list reaches the worker: a PNG is refused where only JPEG is taken, served where PNG is', async () => {
  const pool = await EnginePool.create({ size: 1 });
  try {
    const png = face('faceapi_bbt/amy/amy1.png');
    const refused = await pool.analyze(png, { formats: ['jpeg'] }).catch((e) => e);
    assert.equal(refused.code, 'UNSUPPORTED_IMAGE_FORMAT');
    assert.equal((await pool.analyze(png, { formats: ['png'] })).faces.length, 1);
  } finally {
    await pool.close();
  }
});

test('close() returns within its bound while a worker is inside a long native call, and answers its job', async (t) => {
  const pool = await EnginePool.create({ size: 1, timeoutMs: 30_000, closeTimeoutMs: 300 });
  const job = pool.analyze(await slowPhoto()).catch((e) => e);
  // Let the worker get into libvips / ONNX Runtime with it.
  await new Promise((r) => setTimeout(r, 250));
  const c0 = performance.now();
  await pool.close();
  const ms = performance.now() - c0;
  t.diagnostic(
    `close() with a busy worker took ${ms.toFixed(0)} ms (bound 300 ms); workers still stopping: ${pool.unstopped}`,
  );
  // Bounded by its timer, not by the work: it waited the bound, and returned with the worker still in its call.
  assert.ok(ms >= 300 - 5, `close() returned after ${ms} ms, before its bound`);
  assert.equal(pool.unstopped, 1, 'close() waited for the busy worker to stop');
  const e = await job;
  assert.equal(e.code, 'ENGINE_OVERLOADED', 'the running job is answered, not left hanging');
  await assert.rejects(pool.analyze(face(REAL_JPEG)), (err: unknown) => isVeilError(err, 'ENGINE_OVERLOADED'));
});

// The scale bench's streaming exact reference (support/exact-reference.ts) and its distractor rows
// made again one at a time (support/distractors.ts): what lets bench/scale.bench.ts run at 10M
// without holding 20 GB of float rows. No lfw-dev: a fitted model over seeded vectors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import usearch from 'usearch';
import { fitDistractors, Gaussian, sampleDistractors, skipDistractors } from '../../support/distractors.js';
import { GemmTopK, StreamingTopK } from '../../support/exact-reference.js';

const D = 512;

function unitRows(n: number, seed: number): Float32Array {
  const rng = new Gaussian(seed);
  const out = new Float32Array(n * D);
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += (out[r * D + j] = rng.next()) ** 2;
    for (let j = 0; j < D; j++) out[r * D + j]! /= Math.sqrt(s);
  }
  return out;
}

test('the streaming top k over chunks equals one exact search over every row, ids and scores', () => {
  const n = 5000;
  const rows = unitRows(n, 3);
  const probes = Array.from({ length: 40 }, (_, i) => {
    const p = rows.slice(i * 97 * D, (i * 97 + 1) * D);
    p[i] = p[i]! + 0.3; // near a row, not on it
    return p;
  });
  for (const k of [1, 5]) {
    const stream = new StreamingTopK(probes, D, k);
    // Chunks of uneven sizes, one of a single row, each in a buffer reused (the rows dropped after).
    const buf = new Float32Array(1500 * D);
    for (const [from, to] of [
      [0, 1],
      [1, 1200],
      [1200, 2700],
      [2700, 5000],
    ] as const) {
      for (let at = from; at < to; at += 1500) {
        const m = Math.min(1500, to - at);
        buf.set(rows.subarray(at * D, (at + m) * D));
        stream.addChunk(buf, m, at);
      }
    }
    const queries = new Float32Array(probes.length * D);
    probes.forEach((q, i) => queries.set(q, i * D));
    const whole = usearch.exactSearch(rows, queries, D, k, usearch.MetricKind.IP, 1) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    for (let i = 0; i < probes.length; i++) {
      const got = stream.top(i);
      for (let j = 0; j < k; j++) {
        assert.equal(got[j]!.row, Number(whole.keys[i * k + j]), `probe ${i} rank ${j + 1} row (k ${k})`);
        assert.equal(got[j]!.score, 1 - whole.distances[i * k + j]!, `probe ${i} rank ${j + 1} score`);
      }
      if (k > 1) assert.ok(got[0]!.score >= got[k - 1]!.score);
    }
    assert.equal(stream.top(0)[0]!.row, 0, 'the planted row is found first');
  }
});

test('the GEMM pre-filter keeps exactly the usearch top k, rows and scores, over chunks', async () => {
  const n = 40_000;
  const rows = unitRows(n, 4);
  // Probes near some rows, and pairs of rows whose scores are within the GEMM's rounding of each other.
  const probes = Array.from({ length: 30 }, (_, i) => {
    const p = rows.slice(i * 1301 * D, (i * 1301 + 1) * D);
    for (let j = 0; j < D; j++) p[j] = p[j]! + 0.02 * Math.sin(i + j);
    return p;
  });
  for (const k of [1, 3]) {
    const fast = await GemmTopK.create(probes, D, k);
    const plain = new StreamingTopK(probes, D, k);
    const buf = new Float32Array(20_000 * D);
    for (let at = 0; at < n; at += 20_000) {
      buf.set(rows.subarray(at * D, (at + 20_000) * D));
      await fast.addChunk(buf, 20_000, at);
      plain.addChunk(buf, 20_000, at);
    }
    for (let i = 0; i < probes.length; i++) assert.deepEqual(fast.top(i), plain.top(i), `probe ${i} (k ${k})`);
    assert.equal(fast.top(3)[0]!.row, 3 * 1301);
    assert.ok(fast.rescored < n / 10, `only rows near the top are scored again (${fast.rescored})`);
  }
});

test('a tie keeps the earlier row first, as a merge of chunks in order does', () => {
  const rows = unitRows(2, 9);
  // Global rows 2 and 3 repeat rows 0 and 1; the probe is row 1, so rows 1 and 3 tie at the top.
  const stream1 = new StreamingTopK([rows.subarray(D, 2 * D)], D, 1);
  const stream2 = new StreamingTopK([rows.subarray(D, 2 * D)], D, 2);
  for (const s of [stream1, stream2]) {
    s.addChunk(rows, 2, 0);
    s.addChunk(rows, 2, 2);
  }
  assert.deepEqual(
    stream1.top(0).map((h) => h.row),
    [1],
  );
  assert.deepEqual(
    stream2.top(0).map((h) => h.row),
    [1, 3],
  );
  assert.equal(stream2.top(0)[0]!.score, stream2.top(0)[1]!.score);
});

test('a distractor row made again from its saved generator state equals the one of the sequential stream', () => {
  const model = fitDistractors(unitRows(60, 5), D);
  const n = 300;
  const sequential = new Float32Array(n * D);
  sampleDistractors(model, n, new Gaussian(1), sequential);
  const states = new Int32Array(n * 4);
  const oneByOne = new Float32Array(n * D);
  const rng = new Gaussian(1);
  for (let r = 0; r < n; r++) {
    rng.saveTo(states, r * 4);
    sampleDistractors(model, 1, rng, oneByOne, r);
  }
  assert.deepEqual(oneByOne, sequential, 'row by row with saved states draws the same stream');
  for (const r of [0, 1, 137, n - 1]) {
    const again = new Float32Array(D);
    sampleDistractors(model, 1, Gaussian.resume(states, r * 4), again);
    assert.deepEqual(again, sequential.subarray(r * D, (r + 1) * D), `row ${r}`);
  }
  // Two threads' way: rows 100-199 made after skipping the first 100, as the one stream made them.
  const skipped = new Gaussian(1);
  skipDistractors(model, 100, skipped);
  const part = new Float32Array(100 * D);
  sampleDistractors(model, 100, skipped, part);
  assert.deepEqual(part, sequential.subarray(100 * D, 200 * D));
  const odd = new Gaussian(2);
  odd.next();
  assert.throws(() => odd.saveTo(states, 0), /between pairs of normals/);
});

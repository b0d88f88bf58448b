import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { int8DotI16, int8Scores, queryInt16 } from '../../src/vector/int8-stage.js';
import {
  CODE_BYTES,
  int8Dot,
  INT8_BATCH,
  INT8_QUERY,
  INT8_ROWS,
  QUERY,
  SHORT_BYTES,
} from '../../src/vector/code-scan.js';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { ExactIndex } from '../../src/vector/vector-index.js';
import { dot, rescoreExactly } from '../../src/vector/exact-rescore.js';
import { Gaussian } from '../../support/distractors.js';

// The int8 stage of the quantised index (src/vector/int8-stage.ts, int8-dot.wasm.ts).
const D = 512;
const pages = (bytes: number) => Math.ceil(bytes / 65536);

function unit(rng: Gaussian): Float32Array {
  const v = Float32Array.from({ length: D }, () => rng.next());
  const n = Math.sqrt(v.reduce((a, x) => a + x * x, 0));
  return v.map((x) => x / n);
}

test('the wasm int8 dot equals the JavaScript one exactly, extremes (-128, 127, +-32767) included', () => {
  const k = popcountKernel(pages(INT8_BATCH + INT8_ROWS * D + 4096));
  const n = 300;
  const rows = new Int8Array(k.memory.buffer, 0, n * D);
  const q = new Int16Array(k.memory.buffer, n * D, D);
  const out = n * D + D * 2;
  let x = 12345;
  const next = () => ((x = (x * 1103515245 + 12345) >>> 0) >>> 8) & 0xffff;
  for (let i = 0; i < rows.length; i++) rows[i] = (next() & 0xff) - 128;
  for (let j = 0; j < D; j++) q[j] = Math.max(-32767, next() - 32768);
  rows.fill(-128, 0, D); // the largest magnitude there is: 512 * 128 * 32767 is just under 2^31
  rows.fill(127, D, 2 * D);
  for (let j = 0; j < D; j++) rows[2 * D + j] = j % 2 ? 127 : -128;
  const check = () => {
    k.dots(0, n, n * D, out);
    const got = new Int32Array(k.memory.buffer, out, n);
    for (let i = 0; i < n; i++) assert.equal(got[i], int8DotI16(rows, i * D, q), `row ${i}`);
  };
  check();
  q.fill(-32767);
  check();
  assert.equal(new Int32Array(k.memory.buffer, out, 1)[0], 512 * 128 * 32767);
  q.fill(32767);
  check();
  assert.equal(new Int32Array(k.memory.buffer, out, 2)[1], 512 * 127 * 32767);
  // n = 0 writes nothing.
  new Int32Array(k.memory.buffer, out, 1)[0] = 7;
  k.dots(0, 0, n * D, out);
  assert.equal(new Int32Array(k.memory.buffer, out, 1)[0], 7);
});

test('the int16 query is within half a step of the float query in every component', () => {
  const rng = new Gaussian(3);
  const q = unit(rng);
  const q16 = new Int16Array(D);
  const qs = queryInt16(q, q16);
  for (let j = 0; j < D; j++) assert.ok(Math.abs(q[j]! - qs * q16[j]!) <= qs / 2 + 1e-12, `component ${j}`);
  assert.equal(Math.max(...q16.map(Math.abs)), 32767);
  assert.equal(queryInt16(new Float32Array(D), q16), 0);
  assert.deepEqual([...new Set(q16)], [0]);
});

test('both kernels score every candidate across batches and chunks; the batch keeps no copy of a row', () => {
  const k = popcountKernel(pages(INT8_BATCH + INT8_ROWS * D + 4096));
  // Chunks of 16 rows (bits 4), 700 candidates in three batches, in no particular order.
  const bits = 4;
  const chunks = Array.from({ length: 64 }, (_, c) =>
    Int8Array.from({ length: 16 * D }, (_, i) => ((i * 7 + c * 13) % 256) - 128),
  );
  const rows = Array.from({ length: 700 }, (_, i) => (i * 389) % 1024);
  const q = unit(new Gaussian(9));
  const q16 = new Int16Array(D);
  const qs = queryInt16(q, q16);
  const wasm = int8Scores(k, 'wasm', chunks, bits, rows, q);
  const js = int8Scores(k, 'js', chunks, bits, rows, q);
  rows.forEach((r, i) => {
    const [c, o] = [chunks[r >> bits]!, (r & 15) * D];
    assert.equal(wasm.dots[i], qs * int8DotI16(c, o, q16), `wasm, candidate ${i}`);
    assert.equal(js.dots[i], int8Dot(c, o, q), `js, candidate ${i}`);
    // The int16 rounding of the query stays within the slack the wasm kernel adds to the bound.
    assert.ok(Math.abs(wasm.dots[i]! - js.dots[i]!) <= wasm.slack, `candidate ${i}`);
  });
  assert.equal(js.slack, 0);
  assert.ok(
    new Int8Array(k.memory.buffer, INT8_BATCH, INT8_ROWS * D).every((b) => b === 0),
    'batch zeroed',
  );
});

test('with every row a candidate, both kernels give the exact top k of a full float scan', async () => {
  const rng = new Gaussian(11);
  const rows = Array.from({ length: 1500 }, () => unit(rng));
  const exact = new ExactIndex(D);
  const idx = new QuantizedIndex(new Float32Array(D), 1024, () => 1500);
  rows.forEach((v, i) => {
    exact.add(`t${i}`, v);
    idx.add(`t${i}`, v);
  });
  const vectors = async (ids: readonly string[]) => new Map(ids.map((id) => [id, rows[Number(id.slice(1))]!]));
  for (const kernel of ['wasm', 'js'] as const) {
    idx.int8Kernel = kernel;
    for (let p = 0; p < 20; p++) {
      const probe = p % 2 ? unit(rng) : rows[p * 50]!.map((x, j) => x + 0.02 * Math.sin(j + p));
      const got = await rescoreExactly(idx.search(probe, 10), probe, 10, -Infinity, vectors);
      const want = exact.search(probe, 10);
      assert.deepEqual(
        got.map((h) => h.id),
        want.map((h) => h.id),
        `${kernel}, probe ${p}`,
      );
      got.forEach((h) => assert.equal(h.score, dot(rows[Number(h.id.slice(1))]!, probe)));
    }
  }
});

test('a planted near neighbour among 40,000 rows is always found through every stage, by either kernel', async () => {
  const rng = new Gaussian(21);
  const rows = Array.from({ length: 40_000 }, () => unit(rng));
  const idx = QuantizedIndex.centredOn(rows.slice(0, 4096), rows.length);
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  const vectors = async (ids: readonly string[]) => new Map(ids.map((id) => [id, rows[Number(id.slice(1))]!]));
  for (const kernel of ['wasm', 'js'] as const) {
    idx.int8Kernel = kernel;
    for (let p = 0; p < 25; p++) {
      const mate = (p * 1597) % rows.length;
      const noise = unit(rng);
      const probe = rows[mate]!.map((x, j) => 0.7 * x + 0.714 * noise[j]!);
      const [top] = await rescoreExactly(idx.search(probe, 1, { threshold: 0.3 }), probe, 1, 0.3, vectors);
      assert.equal(top?.id, `t${mate}`, `${kernel}, probe ${p}`);
    }
  }
});

test('a row scored by a search, then removed, leaves no copy of its int8 row in the kernel memory', () => {
  const rng = new Gaussian(31);
  const rows = Array.from({ length: 600 }, () => unit(rng));
  const idx = new QuantizedIndex(new Float32Array(D), 1024, () => 600);
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  const { rows: held } = idx.exportRows(['t7']);
  const mem = () =>
    new Int8Array((idx as unknown as { kernel: { memory: { buffer: ArrayBuffer } } }).kernel.memory.buffer);
  const copies = (m: Int8Array = mem()) => {
    const at: number[] = [];
    for (let i = m.indexOf(held[0]!); i >= 0; i = m.indexOf(held[0]!, i + 1))
      if (held.every((b, j) => m[i + j] === b)) at.push(i);
    return at;
  };
  // Every row is a candidate: t7's row went through the batch, which is zeroed after the search.
  assert.equal(idx.search(rows[7]!, 1)[0]!.id, 't7');
  assert.deepEqual(copies(), []);
  // The JavaScript copy of the batch would show it: the check can fail.
  mem().set(held, 300_000);
  assert.deepEqual(copies(), [300_000]);
  mem().fill(0, 300_000, 300_000 + D);
  const chunks = (idx as unknown as { bytes: Int8Array[] }).bytes;
  assert.equal(chunks.flatMap((c) => copies(c)).length, 1, 'held once before the removal');
  assert.ok(idx.remove('t7'));
  assert.notEqual(idx.search(rows[7]!, 1)[0]!.id, 't7');
  assert.deepEqual(copies(), []);
  // Nor in the index's own int8 rows (the last row moved into its place, the vacated one zeroed).
  for (const chunk of chunks) assert.deepEqual(copies(chunk), []);
});

// The probe is biometric data a search does not keep: its sign and short codes and its int16 copy
// (a cosine of 1 with the probe) used to stay in the kernel memory until the next search.
test('a search leaves no copy of its probe in the kernel memory, by either kernel', () => {
  const rng = new Gaussian(41);
  const rows = Array.from({ length: 40_000 }, () => unit(rng));
  const idx = QuantizedIndex.centredOn(rows.slice(0, 4096), rows.length);
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  const buf = () => (idx as unknown as { kernel: { memory: { buffer: ArrayBuffer } } }).kernel.memory.buffer;
  const probe = unit(rng);
  const q16 = new Int16Array(D);
  queryInt16(probe, q16);
  const int16Copy = () => {
    const m = new Int16Array(buf());
    for (let i = m.indexOf(q16[0]!); i >= 0; i = m.indexOf(q16[0]!, i + 1))
      if (q16.every((x, j) => m[i + j] === x)) return i;
    return -1;
  };
  const codes = () => new Uint8Array(buf(), QUERY, CODE_BYTES + SHORT_BYTES).some((b) => b !== 0);
  for (const kernel of ['wasm', 'js'] as const) {
    idx.int8Kernel = kernel;
    // The checks can fail: in the middle of a search both copies are there.
    idx.candidateRows(probe, 600);
    assert.ok(codes(), `${kernel}: the probe's codes during a search`);
    idx.search(probe, 5);
    assert.equal(codes(), false, `${kernel}: the probe's codes after it`);
    assert.equal(int16Copy(), -1, `${kernel}: the probe's int16 copy after it`);
  }
  new Int16Array(buf(), INT8_QUERY, D).set(q16);
  assert.notEqual(int16Copy(), -1, 'a copy would be found');
});

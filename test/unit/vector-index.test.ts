import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExactIndex, NativeExactIndex } from '../../src/vector/vector-index.js';

function unit(d: number, seed: number): Float32Array {
  let s = seed;
  const v = new Float32Array(d);
  for (let i = 0; i < d; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    v[i] = s / 2 ** 31 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

test('native SIMD exact search returns the same hits and scores as the JavaScript scan', () => {
  const d = 64;
  const js = new ExactIndex(d, 4);
  const nat = new NativeExactIndex(d, 4);
  for (let i = 0; i < 500; i++) {
    js.add(`v${i}`, unit(d, i + 1));
    nat.add(`v${i}`, unit(d, i + 1));
  }
  for (const id of ['v3', 'v499', 'v250']) {
    js.remove(id);
    nat.remove(id);
  }
  for (let q = 0; q < 20; q++) {
    const query = unit(d, 10_000 + q);
    const a = js.search(query, 10);
    const b = nat.search(query, 10);
    assert.deepEqual(
      b.map((h) => h.id),
      a.map((h) => h.id),
    );
    b.forEach((h, i) => assert.ok(Math.abs(h.score - a[i]!.score) < 1e-5));
  }
  const self = nat.search(unit(d, 42), 1)[0]!;
  assert.equal(self.id, 'v41');
  assert.ok(Math.abs(self.score - 1) < 1e-5);
  assert.equal(nat.search(unit(d, 42), 5, { threshold: 0.99 }).length, 1);
  assert.equal(nat.has('v3'), false);
  assert.equal(nat.size, 497);
});

test('removal moves the last row into the hole and zeroes the vacated row', () => {
  const idx = new ExactIndex(4, 2);
  idx.add('a', new Float32Array([1, 0, 0, 0]));
  idx.add('b', new Float32Array([0, 1, 0, 0]));
  idx.add('c', new Float32Array([0, 0, 1, 0]));
  idx.remove('a');
  assert.deepEqual(idx.ids(), ['c', 'b']);
  assert.deepEqual([...idx.rows().data.subarray(8, 12)], [0, 0, 0, 0]);
  assert.equal(idx.search(new Float32Array([0, 0, 1, 0]), 1)[0]!.id, 'c');
});

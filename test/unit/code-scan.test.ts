import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { shortCode } from '../../src/vector/code-scan.js';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { faceLikeVectors } from '../../support/unit-vectors.js';

// The pre-selection stage of the quantised index (src/vector/code-scan.ts): 128-bit short codes keep a
// share of the rows, the 512-bit codes of those rows only are scanned.
const D = 512;

const vectors = (seed: number) => faceLikeVectors(seed, D);
const popcount = (a: Uint8Array, b: Uint8Array) => {
  let c = 0;
  for (let j = 0; j < a.length; j++) for (let x = a[j]! ^ b[j]!; x; x >>= 1) c += x & 1;
  return c;
};
/** The smallest d with at least `want` of the distances at d or below. */
const cut = (d: number[], want: number) => [...d].sort((a, b) => a - b)[Math.min(want, d.length) - 1]!;

test('the short-code, gather and under kernels compute the Hamming distances a plain loop does', () => {
  const k = popcountKernel(2);
  const m = new Uint8Array(k.memory.buffer);
  const n = 300;
  for (let i = 0; i < n * 64 + 64; i++) m[i] = (i * 2654435761) >>> 24;
  const [q, dist, hist, rows] = [n * 64, n * 64 + 64, n * 64 + 64 + n * 2 + 4, 65536];
  const h = new Uint32Array(k.memory.buffer, hist, 513);
  const d16 = new Uint16Array(k.memory.buffer, dist, n);
  k.scanShort(0, n, q, dist, hist);
  for (let i = 0; i < n; i++) assert.equal(d16[i], popcount(m.subarray(i * 16, i * 16 + 16), m.subarray(q, q + 16)));
  assert.equal(
    h.reduce((a, b) => a + b),
    n,
  );
  const picked = [7, 299, 0, 150, 7];
  new Uint32Array(k.memory.buffer, rows, picked.length).set(picked);
  h.fill(0);
  k.gather(0, picked.length, q, dist, hist, rows);
  picked.forEach((r, i) => assert.equal(d16[i], popcount(m.subarray(r * 64, r * 64 + 64), m.subarray(q, q + 64))));
  assert.equal(
    h.reduce((a, b) => a + b),
    picked.length,
  );
  // under: the rows within a cut of the query's short code, in one pass (n not a multiple of 4).
  for (const c of [0, 55, 64, 70, 128]) {
    const count = k.under(0, n - 1, q, c, rows, 1000);
    const listed = [...new Uint32Array(k.memory.buffer, rows, count)];
    const expected = [...Array(n - 1).keys()].filter(
      (i) => popcount(m.subarray(i * 16, i * 16 + 16), m.subarray(q, q + 16)) <= c,
    );
    assert.deepEqual(listed, expected, `cut ${c}`);
  }
  assert.equal(k.under(0, n, q, 128, rows, 10), 8, 'stops with fewer than 4 slots left');
});

test('the two stages keep exactly the nearest 512-bit codes among the rows under a short-code cut', () => {
  const gen = vectors(3);
  const n = 6000;
  const idx = new QuantizedIndex(new Float32Array(D), n, () => 40);
  idx.preselect = 0.1;
  const ids = Array.from({ length: n }, (_, i) => `t${i}`);
  ids.forEach((id) => idx.add(id, gen.sample()));
  // The index's own rows, codes and scales, and the short codes they give.
  const { codes, rows, scales } = idx.exportRows(ids);
  const short = new Uint8Array(n * 16);
  for (let r = 0; r < n; r++) shortCode(rows, r * D, scales[r]!, idx.centre(), short, r * 16);
  for (let t = 0; t < 5; t++) {
    const q = gen.sample();
    const qCode = new Uint8Array(64);
    for (let j = 0; j < D; j++) if (q[j]! > idx.centre()[j]!) qCode[j >> 3]! |= 1 << (j & 7);
    const qShort = new Uint8Array(16);
    shortCode(q, 0, 1, idx.centre(), qShort, 0);
    const ds = ids.map((_, r) => popcount(short.subarray(r * 16, r * 16 + 16), qShort));
    const got = [...idx.candidateRows(q, 40)].sort((a, b) => a - b);
    // The short-code cut is taken from a sample: some cut keeping about a tenth of the rows explains the result.
    const explained = [...Array(129).keys()].filter((c1) => {
      const kept = ids.map((_, r) => r).filter((r) => ds[r]! <= c1);
      if (kept.length < 40) return false;
      const dl = kept.map((r) => popcount(codes.subarray(r * 64, r * 64 + 64), qCode));
      const c2 = cut(dl, 40);
      const expected = kept.filter((_, i) => dl[i]! <= c2).sort((a, b) => a - b);
      return JSON.stringify(expected) === JSON.stringify(got);
    });
    assert.ok(explained.length > 0, `query ${t}: no short-code cut gives these rows`);
    const kept = ids.filter((_, r) => ds[r]! <= explained[0]!).length;
    assert.ok(kept >= 300 && kept <= 1500, `${kept} rows pre-selected for a share of 0.1`);
    assert.ok(got.length >= 40 && got.length < kept, `${got.length} rows scored, not all the pre-selected`);
  }
});

test('with the pre-selection on, a planted near neighbour (cosine 0.7) is always found, and the results are those of a full scan', () => {
  const gen = vectors(4);
  const n = 20_000;
  const idx = new QuantizedIndex(new Float32Array(D), 1, () => 64);
  idx.preselect = 0.05;
  const rows = Array.from({ length: n }, () => gen.sample());
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  for (let t = 0; t < 40; t++) {
    const mate = (t * 4999) % n;
    const probe = gen.near(rows[mate]!, 0.7);
    const two = idx.search(probe, 1);
    assert.equal(two[0]!.id, `t${mate}`, `probe ${t}`);
    idx.preselect = 0;
    assert.deepEqual(idx.search(probe, 1), two, 'full scan');
    idx.preselect = 0.05;
  }
});

test('growth moves the short codes with the capacity; removal takes a row out of both stages; loaded rows get the same short codes', () => {
  const gen = vectors(5);
  const n = 17_000;
  const idx = new QuantizedIndex(new Float32Array(D), 1, () => 16);
  const rows = Array.from({ length: n }, () => gen.sample());
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  // Rows written before and after the capacity doubled at 16,384 are all found by their own vector.
  for (const r of [0, 1, 8000, 16_383, 16_384, n - 1]) assert.equal(idx.search(rows[r]!, 1)[0]!.id, `t${r}`);
  // Erasure: the person is gone from both stages, the row moved into the hole is found.
  assert.ok(idx.remove('t8000'));
  assert.ok(idx.search(rows[8000]!, 5).every((h) => h.id !== 't8000'));
  assert.equal(idx.search(rows[n - 1]!, 1)[0]!.id, `t${n - 1}`);
  const mate = gen.near(rows[8000]!, 0.7);
  assert.ok(idx.search(mate, 10).every((h) => h.id !== 't8000'));
  // A snapshot's rows loaded into a fresh index pick the same candidates.
  const ids = idx.ids();
  const { codes, rows: int8, scales } = idx.exportRows(ids);
  const back = new QuantizedIndex(idx.centre(), 1, () => 16);
  back.loadRows(ids, codes, int8, scales);
  for (let t = 0; t < 5; t++) {
    const q = gen.near(rows[t * 3000]!, 0.5);
    const a = [...idx.candidateRows(q, 16)].map((r) => ids[r]);
    assert.deepEqual([...back.candidateRows(q, 16)].map((r) => ids[r]).sort(), a.sort());
  }
});

test('a cut that lists more rows than the pre-selection holds (most rows one face) falls back to the full scan: the exact top 1 is not lost', () => {
  // 9,000 copies of one template (one person enrolled from the same photo again and again, or a
  // gallery that is mostly one person) tie at one short-code distance, under the sampled cut: more
  // rows than the pick region's half of the capacity (8,192 here). The genuine mate is the last row.
  const gen = vectors(6);
  const idx = new QuantizedIndex(new Float32Array(D));
  const mate = gen.sample();
  const probe = gen.near(mate, 0.9);
  const same = gen.near(probe, 0.5);
  for (let i = 0; i < 9000; i++) idx.add(`same${i}`, same);
  for (let i = 0; i < 2999; i++) idx.add(`other${i}`, gen.sample());
  idx.add('mate', mate);
  idx.preselect = 0;
  assert.equal(idx.search(probe, 1)[0]!.id, 'mate', 'full scan');
  idx.preselect = 0.02;
  assert.equal(idx.search(probe, 1)[0]!.id, 'mate', 'with the pre-selection');
  assert.ok([...idx.candidateRows(probe, 512)].includes(11_999), 'the mate is a candidate');
});

test('a removed row leaves no copy of its short code in the kernel memory, also after the capacity grew', () => {
  const gen = vectors(7);
  const n = 16_385;
  const idx = new QuantizedIndex(new Float32Array(D), 1, () => 16);
  for (let i = 0; i < n; i++) idx.add(`t${i}`, gen.sample());
  // t100's short code as the index derives it, then t100 erased.
  const { rows, scales } = idx.exportRows(['t100']);
  const code = new Uint8Array(16);
  shortCode(rows, 0, scales[0]!, idx.centre(), code, 0);
  assert.ok(idx.remove('t100'));
  const mem = new Uint8Array((idx as unknown as { kernel: { memory: { buffer: ArrayBuffer } } }).kernel.memory.buffer);
  const left: number[] = [];
  for (let at = mem.indexOf(code[0]!); at >= 0; at = mem.indexOf(code[0]!, at + 1))
    if (code.every((b, j) => mem[at + j] === b)) left.push(at);
  assert.deepEqual(left, [], 'offsets holding the erased row’s short code');
});

test('more rows at or under the 512-bit cut than the candidate list holds (65,536): the rows strictly nearer are all kept', () => {
  // 70,000 copies of one template tie at one 512-bit distance, the cut; the mate, nearer, is the last row.
  const gen = vectors(8);
  const idx = new QuantizedIndex(new Float32Array(D));
  const mate = gen.sample();
  const probe = gen.near(mate, 0.9);
  const same = gen.near(probe, 0.5);
  for (let i = 0; i < 70_000; i++) idx.add(`same${i}`, same);
  idx.add('mate', mate);
  for (const share of [0, 0.02]) {
    idx.preselect = share;
    assert.equal(idx.search(probe, 1)[0]!.id, 'mate', `preselect ${share}`);
  }
});

test('memory that cannot grow refuses the row and leaves the index as it was', () => {
  const gen = vectors(9);
  const idx = new QuantizedIndex(new Float32Array(D), 1, () => 16);
  const rows = Array.from({ length: 16_384 }, () => gen.sample());
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  const memory = (idx as unknown as { kernel: { memory: { grow(p: number): number } } }).kernel.memory;
  const grow = memory.grow.bind(memory);
  memory.grow = () => {
    throw new RangeError('WebAssembly.Memory.grow(): Maximum memory size exceeded');
  };
  assert.throws(() => idx.add('over', gen.sample()), RangeError);
  // A snapshot segment's two rows loaded into the last free row: the first fits, the second cannot,
  // and neither is held after the refusal.
  assert.ok(idx.remove('t0'));
  const more = new QuantizedIndex(idx.centre(), 1, () => 16);
  more.add('x', gen.sample());
  more.add('y', gen.sample());
  const xy = more.exportRows(['x', 'y']);
  assert.throws(() => idx.loadRows(['x', 'y'], xy.codes, xy.rows, xy.scales), RangeError);
  assert.equal(idx.size, 16_383);
  assert.equal(idx.has('x') || idx.has('y'), false);
  memory.grow = grow;
  for (const r of [9000, 16_383]) assert.equal(idx.search(rows[r]!, 1)[0]!.id, `t${r}`);
  const late = gen.sample();
  idx.add('late', late);
  assert.equal(idx.search(late, 1)[0]!.id, 'late');
  assert.equal(idx.search(rows[16_383]!, 1)[0]!.id, 't16383');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { AdaptiveIndex } from '../../src/vector/adaptive-index.js';
import { ExactIndex } from '../../src/vector/vector-index.js';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { Gaussian } from '../../support/distractors.js';
import type { PurposeId, SubjectId, TemplateId } from '../../src/ids.js';

const D = 512;

/** Anisotropic vectors around a common mean (like real embeddings: impostors at cosine about 0.05 +- 0.1), L2-normalised. */
function population(seed: number) {
  const rng = new Gaussian(seed);
  const scale = Float32Array.from({ length: D }, (_, j) => 1 / Math.sqrt(1 + j / 8));
  const total = Math.sqrt(scale.reduce((a, s) => a + s * s, 0));
  const mean = Float32Array.from({ length: D }, () => (rng.next() * 0.22) / Math.sqrt(D));
  const norm = (x: Float32Array) => {
    let s = 0;
    for (let j = 0; j < D; j++) s += x[j]! * x[j]!;
    const k = 1 / Math.sqrt(s);
    for (let j = 0; j < D; j++) x[j]! *= k;
    return x;
  };
  const draw = (sc: (j: number) => number) => {
    const x = new Float32Array(D);
    for (let j = 0; j < D; j++) x[j] = rng.next() * sc(j);
    return x;
  };
  return {
    sample: () => {
      const x = draw((j) => scale[j]! / total);
      for (let j = 0; j < D; j++) x[j]! += mean[j]!;
      return norm(x);
    },
    /** Another photo of the same person: cosine about `cos` with `v`. */
    near: (v: Float32Array, cos: number) => {
      const noise = norm(draw(() => 1));
      const s = Math.sqrt(1 - cos * cos);
      return norm(v.map((x, j) => cos * x + s * noise[j]!));
    },
  };
}

test('the wasm kernel computes Hamming distances and collects the rows under a cut', () => {
  const k = popcountKernel(2);
  const m = new Uint8Array(k.memory.buffer);
  const n = 200;
  for (let i = 0; i < n * 64 + 64; i++) m[i] = (i * 2654435761) >>> 24;
  const q = n * 64;
  const dist = q + 64;
  const hist = dist + n * 2 + 4;
  const out = hist + 513 * 4;
  k.scan(0, n, q, dist, hist);
  const d16 = new Uint16Array(k.memory.buffer, dist, n);
  for (let i = 0; i < n; i++) {
    let c = 0;
    for (let j = 0; j < 64; j++) for (let x = m[i * 64 + j]! ^ m[q + j]!; x; x >>= 1) c += x & 1;
    assert.equal(d16[i], c, `row ${i}`);
  }
  assert.equal(
    [...new Uint32Array(k.memory.buffer, hist, 513)].reduce((a, b) => a + b),
    n,
  );
  const got = k.collect(dist, n, 250, out, 1000);
  const rows = [...new Uint32Array(k.memory.buffer, out, got)];
  assert.deepEqual(
    rows,
    [...d16.keys()].filter((i) => d16[i]! <= 250),
  );
  assert.equal(k.collect(dist, n, 512, out, 7), 7);
});

test('quantised search returns exact float scores, and the exact top hits on a small candidate budget', () => {
  const pop = population(1);
  const exact = new ExactIndex(D);
  const quant = new QuantizedIndex(new Float32Array(D), 1024, () => 64);
  const rows = Array.from({ length: 3000 }, () => pop.sample());
  const q0 = QuantizedIndex.centredOn(rows);
  rows.forEach((v, i) => {
    exact.add(`t${i}`, v);
    quant.add(`t${i}`, v);
    q0.add(`t${i}`, v);
  });
  for (let p = 0; p < 30; p++) {
    const probe = pop.near(rows[p * 7]!, 0.6);
    const e = exact.search(probe, 3);
    for (const idx of [quant, q0]) {
      const h = idx.search(probe, 3);
      assert.equal(h[0]!.id, `t${p * 7}`);
      assert.equal(h[0]!.id, e[0]!.id);
      assert.ok(Math.abs(h[0]!.score - e[0]!.score) < 1e-5, 'an exact float cosine');
    }
  }
  // The threshold and the filter apply to exact scores.
  const probe = pop.near(rows[5]!, 0.6);
  assert.deepEqual(
    q0.search(probe, 5, { threshold: 0.4 }).map((h) => h.id),
    exact.search(probe, 5, { threshold: 0.4 }).map((h) => h.id),
  );
  assert.equal(q0.search(probe, 5, { filter: (id) => id !== 't5' })[0]?.id === 't5', false);
});

test('removal moves the last row into the hole, zeroes what it vacates, and growing keeps every row', () => {
  const pop = population(2);
  const idx = new QuantizedIndex(new Float32Array(D), 16, () => 8);
  const rows = Array.from({ length: 17_000 }, () => pop.sample());
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  assert.equal(idx.size, 17_000);
  assert.equal(idx.search(rows[16_999]!, 1)[0]!.id, 't16999');
  assert.ok(idx.remove('t0'));
  assert.equal(idx.remove('t0'), false);
  assert.equal(idx.has('t0'), false);
  assert.equal(idx.search(rows[16_999]!, 1)[0]!.id, 't16999', 'the moved row is still found');
  assert.notEqual(idx.search(rows[0]!, 1)[0]!.id, 't0');
  for (let i = 1; i < 17_000; i++) idx.remove(`t${i}`);
  assert.equal(idx.size, 0);
  assert.deepEqual(idx.search(rows[1]!, 3), []);
});

test('planted mates at cosine 0.5-0.7 among 30,000 face-like distractors: rank 1 as often as exact search', () => {
  const pop = population(3);
  const n = 30_000;
  const exact = new ExactIndex(D, n);
  const adaptive = new AdaptiveIndex(D, 10_000);
  for (let i = 0; i < n; i++) {
    const v = pop.sample();
    exact.add(`d${i}`, v);
    adaptive.add(`d${i}`, v);
  }
  assert.equal(adaptive.kind, 'quantised');
  let exactHits = 0;
  let kept = 0;
  for (let p = 0; p < 100; p++) {
    const mate = pop.sample();
    exact.add(`m${p}`, mate);
    adaptive.add(`m${p}`, mate);
    const probe = pop.near(mate, 0.5 + (p % 5) * 0.05);
    const e = exact.search(probe, 1)[0]!;
    const a = adaptive.search(probe, 1)[0]!;
    if (e.id === `m${p}`) {
      exactHits++;
      if (a.id === e.id) kept++;
    }
  }
  assert.ok(exactHits >= 90, `exact found ${exactHits}`);
  assert.ok(kept >= exactHits * 0.99, `kept ${kept} of ${exactHits}`);
});

test('the gallery index finds and removes a subject’s templates without scanning every template', () => {
  const g = new GalleryIndex(4);
  const v = (x: number) => new Float32Array([x, 1 - x, 0, 0]);
  const add = (t: string, s: string, p: string, x: number) =>
    g.add({ templateId: t as TemplateId, subjectId: s as SubjectId, purposeId: p as PurposeId, vector: v(x) });
  add('t1', 's1', 'p1', 1);
  add('t2', 's1', 'p2', 0.5);
  add('t3', 's2', 'p1', 0);
  add('t1', 's1', 'p1', 0.9);
  assert.deepEqual(g.templatesOf('s1' as SubjectId).sort(), ['t1', 't2']);
  assert.equal(g.removeSubject('s1' as SubjectId, 'p2' as PurposeId), 1);
  assert.deepEqual(g.templatesOf('s1' as SubjectId), ['t1']);
  assert.equal(g.removeSubject('s1' as SubjectId), 1);
  assert.deepEqual(g.templatesOf('s1' as SubjectId), []);
  assert.equal(g.size(), 1);
  assert.deepEqual(g.snapshot(), { p1: ['t3'] });
});

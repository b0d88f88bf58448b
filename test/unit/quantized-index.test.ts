import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { AdaptiveIndex } from '../../src/vector/adaptive-index.js';
import { ExactIndex } from '../../src/vector/vector-index.js';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import { dot, rescoreExactly } from '../../src/vector/exact-rescore.js';
import type { SearchOptions, VectorHit, VectorIndex } from '../../src/vector/vector-index.js';
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

/** The index's hits re-scored on the exact vectors, as GalleryIndex does; counts the vectors read. */
function exactly(rows: Map<string, Float32Array>) {
  const reads: number[] = [];
  const search = async (idx: VectorIndex, q: Float32Array, k: number, opts: SearchOptions = {}) =>
    rescoreExactly(idx.search(q, k, opts), q, k, opts.threshold ?? -Infinity, async (ids) => {
      reads.push(ids.length);
      return new Map(ids.filter((id) => rows.has(id)).map((id) => [id, rows.get(id)!]));
    });
  return { search, reads };
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

test('quantised search returns exact float scores, and the exact top hits on a small candidate budget', async () => {
  const pop = population(1);
  const exact = new ExactIndex(D);
  const quant = new QuantizedIndex(new Float32Array(D), 1024, () => 64);
  const rows = Array.from({ length: 3000 }, () => pop.sample());
  const q0 = QuantizedIndex.centredOn(rows);
  const byId = new Map(rows.map((v, i) => [`t${i}`, v]));
  const { search, reads } = exactly(byId);
  rows.forEach((v, i) => {
    exact.add(`t${i}`, v);
    quant.add(`t${i}`, v);
    q0.add(`t${i}`, v);
  });
  for (let p = 0; p < 30; p++) {
    const probe = pop.near(rows[p * 7]!, 0.6);
    const e = exact.search(probe, 3);
    for (const idx of [quant, q0]) {
      const h = await search(idx, probe, 3);
      assert.equal(h[0]!.id, `t${p * 7}`);
      assert.equal(h[0]!.id, e[0]!.id);
      assert.equal(h[0]!.score, dot(rows[p * 7]!, probe), 'the exact float cosine');
      assert.equal(h[0]!.error, undefined);
    }
  }
  // Only the few rows that may be in the top 3 are read for the exact score, never the whole budget.
  assert.ok(Math.max(...reads) < 64, `read ${Math.max(...reads)}`);
  // The threshold and the filter apply to exact scores.
  const probe = pop.near(rows[5]!, 0.6);
  assert.deepEqual(
    (await search(q0, probe, 5, { threshold: 0.4 })).map((h) => h.id),
    exact.search(probe, 5, { threshold: 0.4 }).map((h) => h.id),
  );
  assert.equal((await search(q0, probe, 5, { filter: (id) => id !== 't5' }))[0]?.id === 't5', false);
});

test('int8 scores are within their stated bound of the exact cosine, and the bounded hits hold the exact top k', () => {
  const pop = population(4);
  const rows = Array.from({ length: 2000 }, () => pop.sample());
  const idx = new QuantizedIndex(new Float32Array(D), 1024, () => 2000);
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  let widest = 0;
  for (let p = 0; p < 40; p++) {
    const probe = pop.near(rows[p]!, 0.3 + (p % 4) * 0.1);
    const hits: VectorHit[] = idx.search(probe, 10, { threshold: -1 });
    assert.ok(hits.length >= 10);
    for (const h of hits) {
      const e = dot(rows[Number(h.id.slice(1))]!, probe);
      assert.ok(Math.abs(h.score - e) <= h.error!, `${h.id}: ${h.score} vs ${e} +- ${h.error}`);
      widest = Math.max(widest, h.error!);
    }
    // Every row of the exact top 10 (over all rows, as the budget here is every row) is among the hits.
    const top = rows
      .map((v, i) => ({ i, s: dot(v, probe) }))
      .sort((a, b) => b.s - a.s)
      .slice(0, 10);
    const got = new Set(hits.map((h) => h.id));
    for (const t of top) assert.ok(got.has(`t${t.i}`), `exact rank of t${t.i} missing`);
  }
  assert.ok(widest < 0.05, `bound ${widest}`);
});

test('a gallery index of quantised purposes reads exact vectors only for the hits that can count, and drops erased ones', async () => {
  const pop = population(5);
  const rows = Array.from({ length: 600 }, () => pop.sample());
  const byId = new Map(rows.map((v, i) => [`t${i}`, v]));
  const asked: string[][] = [];
  const g = new GalleryIndex(D, {
    makeIndex: () => QuantizedIndex.centredOn(rows),
    exact: async (ids) => {
      asked.push([...ids]);
      return new Map(ids.filter((id) => byId.has(id)).map((id) => [id, byId.get(id)!]));
    },
  });
  const pid = 'p1' as PurposeId;
  rows.forEach((v, i) =>
    g.add({ templateId: `t${i}` as TemplateId, subjectId: `s${i}` as SubjectId, purposeId: pid, vector: v }),
  );
  const probe = pop.near(rows[9]!, 0.6);
  const [hit] = await g.search(pid, probe, 1, 0.4);
  assert.equal(hit!.subjectId, 's9');
  assert.equal(hit!.similarity, dot(rows[9]!, probe));
  assert.ok(asked.at(-1)!.length <= 4, `asked for ${asked.at(-1)!.length}`);
  // A probe of nobody above the threshold: nothing can cross it, nothing is read.
  const before = asked.length;
  assert.deepEqual(await g.search(pid, pop.sample(), 1, 0.9), []);
  assert.equal(asked.length, before);
  // A template whose exact vector can no longer be read (key destroyed) never matches.
  byId.delete('t9');
  assert.notEqual((await g.search(pid, probe, 1, -1))[0]?.templateId, 't9');
  // Without an exact source, the quantised tier refuses rather than decide on int8 scores.
  const blind = new GalleryIndex(D, { makeIndex: () => QuantizedIndex.centredOn(rows) });
  blind.add({ templateId: 't0' as TemplateId, subjectId: 's0' as SubjectId, purposeId: pid, vector: rows[0]! });
  await assert.rejects(blind.search(pid, rows[0]!, 1, 0.4), /no exact template source/);
});

test('removal moves the last row into the hole, zeroes what it vacates, and growing keeps every row', async () => {
  const pop = population(2);
  const idx = new QuantizedIndex(new Float32Array(D), 16, () => 8);
  const rows = Array.from({ length: 17_000 }, () => pop.sample());
  const { search } = exactly(new Map(rows.map((v, i) => [`t${i}`, v])));
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  assert.equal(idx.size, 17_000);
  assert.equal((await search(idx, rows[16_999]!, 1))[0]!.id, 't16999');
  assert.ok(idx.remove('t0'));
  assert.equal(idx.remove('t0'), false);
  assert.equal(idx.has('t0'), false);
  assert.equal((await search(idx, rows[16_999]!, 1))[0]!.id, 't16999', 'the moved row is still found');
  assert.notEqual((await search(idx, rows[0]!, 1))[0]!.id, 't0');
  for (let i = 1; i < 17_000; i++) idx.remove(`t${i}`);
  assert.equal(idx.size, 0);
  assert.deepEqual(idx.search(rows[1]!, 3), []);
});

test('planted mates at cosine 0.5-0.7 among 30,000 face-like distractors: rank 1 as often as exact search', async () => {
  const pop = population(3);
  const n = 30_000;
  const exact = new ExactIndex(D, n);
  const adaptive = new AdaptiveIndex(D, 10_000);
  const byId = new Map<string, Float32Array>();
  const { search } = exactly(byId);
  for (let i = 0; i < n; i++) {
    const v = pop.sample();
    byId.set(`d${i}`, v);
    exact.add(`d${i}`, v);
    adaptive.add(`d${i}`, v);
  }
  assert.equal(adaptive.kind, 'quantised');
  let exactHits = 0;
  let kept = 0;
  for (let p = 0; p < 100; p++) {
    const mate = pop.sample();
    byId.set(`m${p}`, mate);
    exact.add(`m${p}`, mate);
    adaptive.add(`m${p}`, mate);
    const probe = pop.near(mate, 0.5 + (p % 5) * 0.05);
    const e = exact.search(probe, 1)[0]!;
    const a = (await search(adaptive, probe, 1))[0]!;
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

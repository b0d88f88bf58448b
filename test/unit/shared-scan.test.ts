import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { HELPER_HIST, layout } from '../../src/vector/code-scan.js';
import { currentHelper, helperMode, helperStats } from '../../src/vector/search-helper.js';
import { faceLikeVectors } from '../../support/unit-vectors.js';

// The Hamming stages of the quantised index split with the search helper thread (src/vector/shared-scan.ts,
// search-helper.ts): the same candidate rows and results as on one thread, whoever runs the second half.
const D = 512;

const vectors = (seed: number) => faceLikeVectors(seed, D);
const memOf = (idx: QuantizedIndex) =>
  (idx as unknown as { kernel: { memory: { buffer: SharedArrayBuffer } } }).kernel.memory.buffer;
const capacityOf = (idx: QuantizedIndex) => (idx as unknown as { capacity: number }).capacity;

/** An index of these rows (ids t0, t1, ...) whose every search is split with the helper. */
function splitIndex(rows: readonly Float32Array[]): QuantizedIndex {
  const idx = new QuantizedIndex(new Float32Array(D), 1, () => 64);
  rows.forEach((v, i) => idx.add(`t${i}`, v));
  idx.splitFrom = 0;
  return idx;
}

/** What a test may have changed of the split's settings, back to the defaults (not the rest rule: its own hooks). */
function resetHelperMode(): void {
  QuantizedIndex.threads = 2;
  helperMode.waitMs = undefined;
  helperMode.takeBack = 'auto';
}

// The counting tests take every search to the helper; resting a helper that falls behind has its own test.
before(() => (helperMode.rest = false));
after(() => (helperMode.rest = true));

/** The candidate rows and hits of a probe on one thread, then on two with each way of running the second half. */
function compare(idx: QuantizedIndex, probe: Float32Array, want: number, what: string): void {
  QuantizedIndex.threads = 1;
  const one = { rows: [...idx.candidateRows(probe, want)], hits: idx.search(probe, 5) };
  QuantizedIndex.threads = 2;
  for (const mode of ['never', 'always', 'auto'] as const) {
    helperMode.takeBack = mode;
    const two = { rows: [...idx.candidateRows(probe, want)], hits: idx.search(probe, 5) };
    assert.deepEqual(
      two,
      one,
      `${what}, second half: ${mode === 'never' ? 'helper' : mode === 'always' ? 'searching thread' : 'either'}`,
    );
  }
  helperMode.takeBack = 'auto';
}

/** Waits for the helper thread to take its first job (it starts on the first split search). */
function warm(idx: QuantizedIndex, probe: Float32Array): void {
  helperMode.takeBack = 'never';
  const helped = helperStats.helped;
  // (the thread takes a moment to start: searches meanwhile run alone)
  for (const end = Date.now() + 20_000; Date.now() < end && helperStats.helped === helped;)
    idx.candidateRows(probe, 64);
  helperMode.takeBack = 'auto';
  assert.ok(helperStats.helped > helped, 'the helper thread answered');
}

test('two threads keep the same candidate rows and hits as one: random rows, ties at the cut, a full list', () => {
  const gen = vectors(11);
  const rows = Array.from({ length: 20_000 }, () => gen.sample());
  const idx = splitIndex(rows);
  idx.preselect = 0.05;
  helperMode.waitMs = 10_000;
  try {
    warm(idx, gen.sample());
    const before = { ...helperStats };
    for (let t = 0; t < 12; t++) compare(idx, gen.near(rows[(t * 1777) % rows.length]!, 0.6), 64, `probe ${t}`);
    // 36 searches each way: those waiting for the helper answered by it, those not waking it by the searching thread.
    assert.ok(helperStats.helped - before.helped >= 24, 'answered by the helper');
    // (a helper awake at the moment of a post may still take a job it was not woken for)
    assert.ok(helperStats.taken - before.taken >= 12, 'taken back by the searching thread');
    assert.equal(helperStats.helped + helperStats.taken - before.helped - before.taken, 72);
    // Ties at the cut: 3,000 copies of one row on each side of the split, at one short-code distance from
    // the probe; the cut falls on them or next to them.
    const same = gen.sample();
    const probe = gen.near(same, 0.6);
    for (let i = 0; i < 3000; i++) idx.add(`a${i}`, same);
    // (a removal moves the last row into the hole: the first copies go to rows 0-2,999)
    for (let i = 0; i < 3000; i++) idx.remove(`t${i}`);
    for (let i = 0; i < 3000; i++) idx.add(`z${i}`, same);
    assert.ok(idx.ids().indexOf('a0') < 3000 && idx.ids().indexOf('z0') >= 20_000);
    for (const want of [64, 2000, 3500]) compare(idx, probe, want, `ties, want ${want}`);
  } finally {
    helperMode.waitMs = undefined;
    idx.close();
  }
});

test('a list full on either side of the split ends, as on one thread, in the full 512-bit scan: the mate is kept', () => {
  // 9,000 copies of one template tie under the cut (code-scan.test.ts): more than half of the picks
  // (8,192 at this capacity) and, on one side of the split, more than that side's 4,096.
  const gen = vectors(15);
  const mate = gen.sample();
  const probe = gen.near(mate, 0.9);
  const same = gen.near(probe, 0.5);
  helperMode.waitMs = 10_000;
  for (const copiesFirst of [true, false]) {
    const idx = new QuantizedIndex(new Float32Array(D));
    const add = (copies: boolean) =>
      copies
        ? [...Array(9000).keys()].forEach((i) => idx.add(`same${i}`, same))
        : [...Array(2999).keys()].forEach((i) => idx.add(`other${i}`, gen.sample()));
    add(copiesFirst);
    add(!copiesFirst);
    idx.add('mate', mate);
    idx.splitFrom = 0;
    idx.preselect = 0.02;
    try {
      warm(idx, probe);
      compare(idx, probe, 512, `copies ${copiesFirst ? 'first' : 'last'}`);
      assert.equal(idx.search(probe, 1)[0]!.id, 'mate');
    } finally {
      idx.close();
    }
  }
  helperMode.waitMs = undefined;
});

test('the helper’s scratch is zeroed after every search, and a removed row leaves no code of it in the kernel memory', () => {
  const gen = vectors(12);
  const rows = Array.from({ length: 17_000 }, () => gen.sample());
  const idx = splitIndex(rows);
  helperMode.waitMs = 10_000;
  try {
    warm(idx, rows[5]!);
    const lay = layout(capacityOf(idx));
    const scratch = () => [
      ...new Uint8Array(memOf(idx), lay.helperPick, lay.helperDist + lay.pickMax - lay.helperPick),
      ...new Uint8Array(memOf(idx), HELPER_HIST, 513 * 4),
    ];
    for (const mode of ['never', 'always'] as const) {
      helperMode.takeBack = mode;
      // A probe of t16000, on the helper's side of the split: its rows listed and scored there.
      assert.equal(idx.search(gen.near(rows[16_000]!, 0.9), 1)[0]!.id, 't16000', mode);
      assert.ok(
        scratch().every((b) => b === 0),
        `the helper's picks, distances and histogram are zero after the search (${mode})`,
      );
    }
    helperMode.takeBack = 'auto';
    const { codes } = idx.exportRows(['t16000']);
    assert.ok(idx.remove('t16000'));
    const mem = new Uint8Array(memOf(idx));
    const left: number[] = [];
    for (let at = mem.indexOf(codes[0]!); at >= 0; at = mem.indexOf(codes[0]!, at + 1))
      if (codes.every((b, j) => mem[at + j] === b)) left.push(at);
    assert.deepEqual(left, [], 'offsets holding the erased row’s 512-bit code');
  } finally {
    resetHelperMode();
    idx.close();
  }
});

test('a helper that is not waited for (late) never changes an answer, nor a row it may still read', () => {
  const gen = vectors(13);
  const rows = Array.from({ length: 20_000 }, () => gen.sample());
  const idx = splitIndex(rows);
  helperMode.waitMs = 0;
  helperMode.takeBack = 'never';
  try {
    const before = { ...helperStats };
    for (let t = 0; t < 40; t++) {
      const probe = gen.near(rows[(t * 911) % rows.length]!, 0.6);
      QuantizedIndex.threads = 1;
      const one = [...idx.candidateRows(probe, 64)];
      QuantizedIndex.threads = 2;
      assert.deepEqual([...idx.candidateRows(probe, 64)], one, `probe ${t}`);
      // A removal and adds right after (growth past 32,768 rows on the way): they wait for a late half.
      const r = (t * 37) % 1000;
      idx.remove(`t${r}`);
      for (let i = 0; i < 400; i++) idx.add(`n${t}-${i}`, gen.sample());
      idx.add(`t${r}`, rows[r]!);
    }
    const s = (k: keyof typeof helperStats) => helperStats[k] - before[k];
    assert.equal(s('helped') + s('taken') + s('abandoned') + s('busy'), 40, JSON.stringify(helperStats));
    // Every row is still found by its own vector: no code changed under a late half.
    for (let r = 0; r < rows.length; r += 997) assert.equal(idx.search(rows[r]!, 1)[0]!.id, `t${r}`);
  } finally {
    resetHelperMode();
    idx.close();
  }
});

test('a helper thread that dies leaves the searches to the searching thread, with the same answers', async () => {
  const gen = vectors(16);
  const rows = Array.from({ length: 8000 }, () => gen.sample());
  const idx = splitIndex(rows);
  helperMode.waitMs = 10_000;
  try {
    warm(idx, rows[1]!);
    const helper = currentHelper()!;
    await (helper as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    // (the exit event is delivered on the event loop)
    await new Promise((ok) => setImmediate(ok));
    assert.ok(helper.dead);
    helperMode.takeBack = 'never';
    const before = { ...helperStats };
    for (let t = 0; t < 10; t++) {
      const probe = gen.near(rows[t * 700]!, 0.6);
      QuantizedIndex.threads = 1;
      const one = [...idx.candidateRows(probe, 64)];
      QuantizedIndex.threads = 2;
      assert.deepEqual([...idx.candidateRows(probe, 64)], one, `probe ${t}`);
      assert.equal(idx.search(probe, 1)[0]!.id, `t${t * 700}`);
    }
    assert.notEqual(currentHelper(), helper, 'the dead thread is not asked again');
    assert.equal(helperStats.abandoned, before.abandoned, 'nor waited for');
  } finally {
    resetHelperMode();
    idx.close();
  }
});

test('a helper that ran behind in 4 of the last 16 searches is rested: the next 256 run alone, with the same answers', () => {
  const gen = vectors(17);
  const rows = Array.from({ length: 8000 }, () => gen.sample());
  const idx = splitIndex(rows);
  helperMode.waitMs = 10_000;
  try {
    warm(idx, rows[1]!);
    helperMode.rest = true;
    // Four searches that waited for a helper sharing a core with the searching thread (which a test
    // cannot make happen on demand): the helper's own record of them.
    const note = (currentHelper() as unknown as { note(miss: boolean): void }).note.bind(currentHelper());
    for (let i = 0; i < 16; i++) note(false);
    for (let i = 0; i < 3; i++) note(true);
    const ask = (t: number) => {
      const probe = gen.near(rows[t * 300]!, 0.6);
      QuantizedIndex.threads = 1;
      const one = [...idx.candidateRows(probe, 64)];
      QuantizedIndex.threads = 2;
      assert.deepEqual([...idx.candidateRows(probe, 64)], one, `probe ${t}`);
    };
    let before = { ...helperStats };
    ask(0);
    assert.equal(helperStats.resting, before.resting, 'three misses: not rested');
    note(true);
    before = { ...helperStats };
    for (let t = 0; t < 20; t++) ask(t);
    assert.equal(helperStats.resting - before.resting, 20, 'four: the searches run alone');
  } finally {
    resetHelperMode();
    helperMode.rest = false;
    idx.close();
  }
});

test('closing the last index stops the helper thread; an index left open does not keep the process alive', () => {
  const gen = vectors(14);
  const idx = splitIndex(Array.from({ length: 2000 }, () => gen.sample()));
  idx.search(gen.sample(), 1);
  assert.ok(currentHelper(), 'the helper started');
  idx.close();
  assert.equal(currentHelper(), undefined);
  assert.equal(idx.search(gen.sample(), 1).length, 1, 'a closed index still searches, on one thread');
  const script = `
    import { QuantizedIndex } from ${JSON.stringify(new URL('../../src/vector/quantized-index.ts', import.meta.url).href)};
    import { currentHelper, helperMode, helperStats } from ${JSON.stringify(new URL('../../src/vector/search-helper.ts', import.meta.url).href)};
    const idx = new QuantizedIndex(new Float32Array(512), 1, () => 64);
    for (let i = 0; i < 2000; i++) idx.add('t' + i, Float32Array.from({ length: 512 }, (_, j) => Math.sin(i * 7 + j)));
    idx.splitFrom = 0;
    helperMode.takeBack = 'never';
    helperMode.waitMs = 10000;
    for (let i = 0, end = Date.now() + 20000; Date.now() < end && !helperStats.helped; i++) idx.search(Float32Array.from({ length: 512 }, (_, j) => Math.cos(i + j)), 1);
    console.log(JSON.stringify({ helped: helperStats.helped, running: Boolean(currentHelper()) }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { helped: 1, running: true }, 'it exited with the helper running');
});

// An idle helper seldom collects garbage: a memory it only forgot stayed resident, every code of a
// dropped index with it. Dropping an index stops the thread; the indexes left attach to the next one.
test('closing one of two indexes stops the helper thread; the other is helped again by a new one', () => {
  const gen = vectors(15);
  const make = () => splitIndex(Array.from({ length: 2000 }, () => gen.sample()));
  const [kept, dropped] = [make(), make()];
  const probe = gen.sample();
  warm(kept, probe);
  warm(dropped, probe);
  const first = currentHelper();
  assert.ok(first, 'one helper serves both');
  dropped.close();
  assert.equal(currentHelper(), undefined, 'the thread that held the dropped memory stopped');
  warm(kept, probe);
  assert.ok(currentHelper() && currentHelper() !== first, 'a new helper serves the index left');
  compare(kept, probe, 64, 'after the other index closed');
  kept.close();
  assert.equal(currentHelper(), undefined);
});

// The cut comes from samples of 4 blocks; when the near rows crowd one of them the cut keeps fewer rows
// than wanted, and the single-thread pass widens it. The split must not answer with its narrower list.
test('a cut that keeps fewer rows than wanted is widened as on one thread, not answered by the split', () => {
  const gen = vectors(16);
  const probe = gen.sample();
  const idx = new QuantizedIndex(new Float32Array(D), 65_536, () => 64);
  for (let i = 0; i < 65_536; i++) idx.add(`t${i}`, i < 3000 ? gen.near(probe, 0.5) : gen.sample());
  idx.splitFrom = 0;
  idx.preselect = 0.01;
  warm(idx, probe);
  for (const want of [1000, 2000, 4000]) compare(idx, probe, want, `want ${want}`);
  idx.close();
});

// A failure in the searching thread's own half must still settle the half it posted: left posted, every
// later search would find the helper busy (the split off for good) and its scratch never scrubbed.
test('an own half that throws leaves the helper free: the next searches are split again, with the same answers', () => {
  const gen = vectors(18);
  const idx = splitIndex(Array.from({ length: 4000 }, () => gen.sample()));
  const probe = gen.sample();
  warm(idx, probe);
  const kernel = (idx as unknown as { kernel: { under: (...a: number[]) => number } }).kernel;
  const under = kernel.under;
  kernel.under = () => {
    kernel.under = under;
    throw new Error('own half failed');
  };
  assert.throws(() => idx.candidateRows(probe, 64), /own half failed/);
  const { helped, busy } = helperStats;
  helperMode.takeBack = 'never';
  idx.candidateRows(probe, 64);
  helperMode.takeBack = 'auto';
  assert.equal(helperStats.busy, busy, 'the helper was not left busy');
  assert.equal(helperStats.helped, helped + 1, 'the next search was split');
  compare(idx, probe, 64, 'after a failed half');
  idx.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popcountKernel, type PopcountKernel } from '../../src/vector/popcount.wasm.js';
import { gatherReadAhead, underReadAhead } from '../../src/vector/read-ahead.js';

// The read-ahead stages (the short pass read ahead at any size here: `from` 0) must give the
// kernel's own results, row for row, at every block or batch boundary and past it. A wrong offset,
// a block's rows left in its own numbering, or a different stop when the list fills all change what
// a search keeps.
const [QUERY, SHORT_QUERY, HIST, LIST, DIST, CODES] = [4096, 4160, 0, 8192, 65536, 1 << 20];
const ROWS = 20_000;

function kernel(): { k: PopcountKernel; buf: SharedArrayBuffer; rand: () => number } {
  const k = popcountKernel(1);
  k.memory.grow(Math.ceil((CODES + ROWS * 64) / 65536));
  const buf = k.memory.buffer;
  const mem = new Uint8Array(buf);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < ROWS * 64; i++) mem[CODES + i] = rand();
  for (let i = 0; i < 80; i++) mem[QUERY + i] = rand();
  return { k, buf, rand };
}

test('gatherReadAhead equals the kernel gather over the same rows, across batch boundaries', () => {
  const { k, buf, rand } = kernel();
  for (const n of [0, 1, 255, 256, 257, 511, 513, 4000]) {
    const list = new Uint32Array(buf, LIST, n);
    for (let i = 0; i < n; i++) list[i] = (rand() * 19 + i * 7) % ROWS;
    const run = (f: () => void) => {
      new Uint32Array(buf, HIST, 513).fill(0);
      new Uint16Array(buf, DIST, n).fill(0xffff);
      f();
      return { dist: [...new Uint16Array(buf, DIST, n)], hist: [...new Uint32Array(buf, HIST, 513)] };
    };
    const plain = run(() => k.gather(CODES, n, QUERY, DIST, HIST, LIST));
    const ahead = run(() => gatherReadAhead(k, buf, CODES, n, QUERY, DIST, HIST, LIST));
    assert.deepEqual(ahead, plain, `n ${n}`);
    assert.equal(
      plain.hist.reduce((a, b) => a + b, 0),
      n,
    );
  }
});

test('underReadAhead lists the rows the kernel lists, numbered as a whole, and stops where it stops', () => {
  const { k, buf } = kernel();
  // 16-byte codes: the same region read as short codes (4 times the rows).
  const shortRows = ROWS * 4;
  const cases: [n: number, cutoff: number, max: number][] = [
    [0, 64, 1000],
    [3, 128, 1000],
    [4095, 60, 65536],
    [4096, 60, 65536],
    [4097, 60, 65536],
    [shortRows, 58, 65536], // many blocks, a few percent listed
    [shortRows, 64, 6000], // the list fills in the middle of a block: the same stop
    [shortRows, 128, 4098], // every row under the cut: full after the first block
  ];
  for (const [n, cutoff, max] of cases) {
    const run = (f: () => number) => {
      new Uint32Array(buf, LIST, max).fill(0xffffffff);
      const m = f();
      return { m, rows: [...new Uint32Array(buf, LIST, Math.min(max, Math.max(m, 0)))] };
    };
    const plain = run(() => k.under(CODES, n, SHORT_QUERY, cutoff, LIST, max));
    const ahead = run(() => underReadAhead(k, buf, CODES, n, SHORT_QUERY, cutoff, LIST, max, 0));
    assert.deepEqual(ahead, plain, `n ${n} cutoff ${cutoff} max ${max}`);
    if (n === shortRows && cutoff < 128)
      assert.ok(
        plain.rows.some((r) => r >= 4096),
        'rows past the first block',
      );
  }
});

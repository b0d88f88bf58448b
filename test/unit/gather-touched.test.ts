import { test } from 'node:test';
import assert from 'node:assert/strict';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { gatherTouched } from '../../src/vector/gather-touched.js';

// The batched gather must give the kernel's own gather's distances and histogram, row for row, at
// every batch boundary (256) and past it; rows listed out of order and repeated included.
test('gatherTouched equals the kernel gather over the same rows, across batch boundaries', () => {
  const rows = 5000;
  const [QUERY, HIST, LIST, DIST, CODES] = [4096, 0, 8192, 65536, 131072];
  const k = popcountKernel(1);
  k.memory.grow(Math.ceil((CODES + rows * 64) / 65536));
  const buf = k.memory.buffer;
  const mem = new Uint8Array(buf);
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 16) & 0xff;
  for (let i = 0; i < rows * 64; i++) mem[CODES + i] = rand();
  for (let i = 0; i < 64; i++) mem[QUERY + i] = rand();
  for (const n of [0, 1, 255, 256, 257, 511, 513, 4000]) {
    const list = new Uint32Array(buf, LIST, n);
    for (let i = 0; i < n; i++) list[i] = (rand() * 19 + i * 7) % rows;
    const run = (f: () => void) => {
      new Uint32Array(buf, HIST, 513).fill(0);
      new Uint16Array(buf, DIST, n).fill(0xffff);
      f();
      return { dist: [...new Uint16Array(buf, DIST, n)], hist: [...new Uint32Array(buf, HIST, 513)] };
    };
    const plain = run(() => k.gather(CODES, n, QUERY, DIST, HIST, LIST));
    const touched = run(() => gatherTouched(k, buf, CODES, n, QUERY, DIST, HIST, LIST));
    assert.deepEqual(touched, plain, `n ${n}`);
    assert.equal(
      plain.hist.reduce((a, b) => a + b, 0),
      n,
    );
    if (n) assert.ok(plain.dist.every((d) => d <= 512));
  }
});

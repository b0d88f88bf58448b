// The gathered 512-bit stage alone (code-scan.ts): the kernel's gather over 3% of GATHER_N random
// 64-byte codes, listed in row order as the short-code pass lists them, plain and read ahead from
// JavaScript in batches (read-ahead.ts), alternating, medians of 8 (each with a new list).
//
//   [GATHER_N=10000000] flock /tmp/veil-bench.lock node --import tsx bench/scale/gather.ts
import { loadavg } from 'node:os';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { gatherReadAhead } from '../../src/vector/read-ahead.js';
import { percentile } from '../stats.js';

const N = Number(process.env['GATHER_N'] ?? 10_000_000);
const listed = Math.round(N * 0.03);
const [QUERY, HIST, LIST] = [4096, 0, 1 << 20];
const DIST = LIST + listed * 4 + 64;
const CODES = (DIST + listed * 2 + 65536) & ~63;
const k = popcountKernel(1);
k.memory.grow(Math.ceil((CODES + N * 64) / 65536) + 1);
const buf = k.memory.buffer;
const words = new Uint32Array(buf, CODES, N * 16);
for (let i = 0; i < words.length; i++) words[i] = (Math.random() * 2 ** 32) >>> 0;
const list = new Uint32Array(buf, LIST, listed);
const ms: Record<'plain' | 'readAhead', number[]> = { plain: [], readAhead: [] };
for (let r = 0; r < 8; r++)
  for (const mode of ['plain', 'readAhead'] as const) {
    const rows = new Set<number>();
    while (rows.size < listed) rows.add((Math.random() * N) | 0);
    list.set(Uint32Array.from(rows).sort());
    new Uint32Array(buf, HIST, 513).fill(0);
    const t = performance.now();
    if (mode === 'plain') k.gather(CODES, listed, QUERY, DIST, HIST, LIST);
    else gatherReadAhead(k, buf, CODES, listed, QUERY, DIST, HIST, LIST);
    ms[mode].push(performance.now() - t);
  }
for (const [mode, xs] of Object.entries(ms)) {
  const m = percentile(xs, 50);
  console.log(
    `${N} rows, ${listed} listed, ${mode}: median ${m.toFixed(2)} ms, ${((m * 1e6) / listed).toFixed(1)} ns a row`,
  );
}
console.log(`load ${loadavg()[0]}`);

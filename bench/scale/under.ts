// The short-code pass alone (the kernel's `under`, code-scan.ts's first stage, plain and read ahead from
// JavaScript: read-ahead.ts) at 1M and 10M rows in one process, against memcmp's read rate over the same
// bytes: whether the pass at 10M is bound by memory or by the kernel. Random 16-byte codes; a cut that lists few rows, so the pass reads every code.
//
//   [UNDER_ROWS=1000000,10000000] flock /tmp/veil-bench.lock node --import tsx bench/scale/under.ts
import { loadavg } from 'node:os';
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { underReadAhead } from '../../src/vector/read-ahead.js';
import { percentile } from '../stats.js';

const SIZES = (process.env['UNDER_ROWS'] ?? '1000000,10000000').split(',').map(Number);
const N = Math.max(...SIZES);
const QUERY = 4096;
const OUT = 1 << 18;
const MAX = 65536;
const CODES = 1 << 20;
const k = popcountKernel(1);
k.memory.grow(Math.ceil((CODES + N * 16) / 65536));
const mem = new Uint8Array(k.memory.buffer);
for (let i = CODES; i < CODES + N * 16; i += 4) new DataView(mem.buffer).setUint32(i, (Math.random() * 2 ** 32) >>> 0);
for (let i = 0; i < 16; i++) mem[QUERY + i] = (Math.random() * 256) | 0;
const CUT = 45; // popcount of 128 random bits: mean 64, sd 5.7; about 0.05% of rows listed

const rows: { pass: string; rows: number; medianMs: number; nsPerRow: number; gbPerSecond: number; listed: number }[] =
  [];
for (const n of [...SIZES, ...SIZES])
  for (const pass of ['plain', 'read ahead'] as const) {
    const ms: number[] = [];
    let listed = 0;
    for (let r = 0; r < 9; r++) {
      const t = performance.now();
      listed =
        pass === 'plain'
          ? k.under(CODES, n, QUERY, CUT, OUT, MAX)
          : underReadAhead(k, k.memory.buffer, CODES, n, QUERY, CUT, OUT, MAX, 0);
      ms.push(performance.now() - t);
    }
    const m = percentile(ms, 50);
    rows.push({ pass, rows: n, medianMs: m, nsPerRow: (m * 1e6) / n, gbPerSecond: (n * 16) / m / 1e6, listed });
  }
const a = Buffer.alloc(N * 16, 1);
const b = Buffer.alloc(N * 16, 1);
const cmp: number[] = [];
for (let r = 0; r < 5; r++) {
  const t = performance.now();
  Buffer.compare(a, b);
  cmp.push(performance.now() - t);
}
const memcmpGbPerSecond = (2 * N * 16) / percentile(cmp, 50) / 1e6;
console.table(
  rows.map((r) => ({
    ...r,
    medianMs: r.medianMs.toFixed(2),
    nsPerRow: r.nsPerRow.toFixed(2),
    gbPerSecond: r.gbPerSecond.toFixed(2),
  })),
);
console.log(
  `memcmp over 2 x ${(N * 16) / 1e6} MB: ${memcmpGbPerSecond.toFixed(2)} GB/s read (median of 5); load ${loadavg()[0]}`,
);
process.stderr.write(JSON.stringify({ rows, memcmpGbPerSecond, load: loadavg()[0] }) + '\n');

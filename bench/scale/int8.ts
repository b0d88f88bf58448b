// The int8 stage alone (src/vector/int8-stage.ts): `INT8_ROWS_N` (default 1,048,576) int8 rows in the
// index's 16k-row chunks, `INT8_CANDIDATES` (default 1,000) random candidate rows a call, sorted as the
// Hamming stages list them; CPU and wall time per call for each kernel, alternating `INT8_ROUNDS` times.
// `nice -n 10 flock /tmp/veil-bench.lock node --import tsx bench/scale/int8.ts`
import { popcountKernel } from '../../src/vector/popcount.wasm.js';
import { int8Scores, type Int8Kernel } from '../../src/vector/int8-stage.js';
import { INT8_DOTS, INT8_ROWS } from '../../src/vector/code-scan.js';
import { loadavg } from 'node:os';
import { percentile } from '../stats.js';

const BITS = 14;
const N = Number(process.env['INT8_ROWS_N'] ?? 1 << 20);
const M = Number(process.env['INT8_CANDIDATES'] ?? 1000);
const ROUNDS = Number(process.env['INT8_ROUNDS'] ?? 3);
const CALLS = 400;
const kernel = popcountKernel(Math.ceil((INT8_DOTS + INT8_ROWS * 4) / 65536));
const chunks: Int8Array[] = [];
let x = 1;
for (let c = 0; c < Math.ceil(N / (1 << BITS)); c++) {
  const a = new Int8Array((1 << BITS) * 512);
  for (let i = 0; i < a.length; i++) a[i] = ((x = (x * 1103515245 + 12345) >>> 0) >>> 24) - 128;
  chunks.push(a);
}
const q = Float32Array.from({ length: 512 }, (_, j) => Math.sin(j * 0.37) / 16);
const out: Record<Int8Kernel, { cpuMs: number[]; wallMs: number[] }> = {
  js: { cpuMs: [], wallMs: [] },
  wasm: { cpuMs: [], wallMs: [] },
};
const loads: number[] = [];
for (let round = 0; round < ROUNDS; round++)
  for (const mode of ['js', 'wasm'] as const) {
    const calls = Array.from({ length: CALLS }, () =>
      Uint32Array.from({ length: M }, () => Math.floor(Math.random() * N)).sort(),
    );
    const cpu = process.cpuUsage();
    const t = performance.now();
    for (const rows of calls) int8Scores(kernel, mode, chunks, BITS, rows, q);
    const c = process.cpuUsage(cpu);
    out[mode].cpuMs.push((c.user + c.system) / 1000 / CALLS);
    out[mode].wallMs.push((performance.now() - t) / CALLS);
    loads.push(loadavg()[0]!);
  }
const med = (a: number[]) => percentile(a, 50);
process.stdout.write(
  JSON.stringify({
    rows: N,
    candidates: M,
    rounds: ROUNDS,
    load: [Math.min(...loads), Math.max(...loads)],
    js: { cpuMsPerCall: med(out.js.cpuMs), wallMsPerCall: med(out.js.wallMs), rounds: out.js },
    wasm: { cpuMsPerCall: med(out.wasm.cpuMs), wallMsPerCall: med(out.wasm.wallMs), rounds: out.wasm },
  }) + '\n',
);

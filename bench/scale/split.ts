// Where splitting a search's Hamming stages with the search helper pays (src/vector/shared-scan.ts):
// one quantised index grown through SPLIT_SIZES (default 16k to 1M rows of random face-like vectors), and
// at each size the two Hamming stages of SPLIT_CALLS probes (`candidateRows`, the default share and
// budget) on one thread and on two, alternating SPLIT_ROUNDS times; wall ms a call (median) and CPU ms a
// call (the process's, the helper's included). SPLIT_LOCK names the shared bench lock, held while timing.
// `SPLIT_LOCK=/tmp/veil-bench.lock nice -n 5 node --import tsx bench/scale/split.ts`
import { loadavg } from 'node:os';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { defaultCandidates } from '../../src/vector/code-scan.js';
import { helperStats } from '../../src/vector/search-helper.js';
import { Gaussian } from '../../support/distractors.js';
import { percentile } from '../stats.js';
import { holdLock } from './bench-lock.js';

const D = 512;
const SIZES = (process.env['SPLIT_SIZES'] ?? '16384,32768,65536,131072,262144,524288,1048576').split(',').map(Number);
const CALLS = Number(process.env['SPLIT_CALLS'] ?? 300);
const ROUNDS = Number(process.env['SPLIT_ROUNDS'] ?? 3);
const log = (s: string) => process.stderr.write(`split: ${s}\n`);
const rng = new Gaussian(17);
const mean = Float32Array.from({ length: D }, () => rng.next() * 0.05);
const sample = () => {
  const v = Float32Array.from({ length: D }, (_, j) => mean[j]! + rng.next() / Math.sqrt(D));
  let s = 0;
  for (let j = 0; j < D; j++) s += v[j]! * v[j]!;
  return v.map((x) => x / Math.sqrt(s));
};
const idx = new QuantizedIndex(mean, SIZES.at(-1));
idx.splitFrom = 0;
const probes = Array.from({ length: CALLS }, sample);
const out = [];
for (const size of SIZES) {
  while (idx.size < size) idx.add(`t${idx.size}`, sample());
  const want = defaultCandidates(size, 20);
  const release = process.env['SPLIT_LOCK'] ? await holdLock(process.env['SPLIT_LOCK'], log) : () => {};
  const load = [loadavg()[0]!];
  const at: Record<number, { wall: number[]; cpu: number[] }> = { 1: { wall: [], cpu: [] }, 2: { wall: [], cpu: [] } };
  const before = { ...helperStats };
  for (let round = 0; round < ROUNDS; round++)
    for (const threads of [1, 2]) {
      QuantizedIndex.threads = threads;
      const cpu = process.cpuUsage();
      for (const p of probes) {
        const t = performance.now();
        idx.candidateRows(p, want);
        at[threads]!.wall.push(performance.now() - t);
      }
      const used = process.cpuUsage(cpu);
      at[threads]!.cpu.push((used.user + used.system) / 1000 / CALLS);
    }
  load.push(loadavg()[0]!);
  release();
  const row = {
    size,
    one: { wallP50: percentile(at[1]!.wall, 50), cpu: percentile(at[1]!.cpu, 50) },
    two: { wallP50: percentile(at[2]!.wall, 50), cpu: percentile(at[2]!.cpu, 50) },
    helper: Object.fromEntries(Object.entries(helperStats).map(([k, v]) => [k, v - before[k as keyof typeof before]])),
    load,
  };
  out.push(row);
  log(JSON.stringify(row));
}
idx.close();
process.stdout.write(JSON.stringify(out) + '\n');

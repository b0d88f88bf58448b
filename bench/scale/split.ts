// Where splitting a search's Hamming stages with the search helper pays (src/vector/shared-scan.ts):
// one quantised index grown through SPLIT_SIZES (default 16k to 1M rows of random face-like vectors), and
// at each size the two Hamming stages of SPLIT_CALLS probes (`candidateRows`, the default share and
// budget) on one thread and on two, alternating SPLIT_ROUNDS times; wall ms a call (median) and CPU ms a
// call (the process's, the helper's included). SPLIT_LOCK names the shared bench lock, held while timing.
// SPLIT_MODES: '1' (one thread), '2' (the helper), '2-norest' (the helper never rested after falling
// behind: the path before resting). SPLIT_HOG=1 keeps one core busy with another process while timing
// (a machine whose other core is taken), only while the lock is held.
// `SPLIT_LOCK=/tmp/veil-bench.lock nice -n 5 node --import tsx bench/scale/split.ts`
import { loadavg } from 'node:os';
import { spawn } from 'node:child_process';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { defaultCandidates } from '../../src/vector/code-scan.js';
import { helperMode, helperStats } from '../../src/vector/search-helper.js';
import { Gaussian } from '../../support/distractors.js';
import { percentile } from '../stats.js';
import { holdLock } from './bench-lock.js';

const D = 512;
const SIZES = (process.env['SPLIT_SIZES'] ?? '16384,32768,65536,131072,262144,524288,1048576').split(',').map(Number);
const CALLS = Number(process.env['SPLIT_CALLS'] ?? 300);
const ROUNDS = Number(process.env['SPLIT_ROUNDS'] ?? 3);
const MODES = (process.env['SPLIT_MODES'] ?? '1,2').split(',');
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
  const hog = process.env['SPLIT_HOG'] === '1' ? spawn(process.execPath, ['-e', 'for (;;);']) : undefined;
  const load = [loadavg()[0]!];
  const at = Object.fromEntries(MODES.map((m) => [m, { wall: [] as number[], cpu: [] as number[] }]));
  const before = { ...helperStats };
  for (let round = 0; round < ROUNDS; round++)
    for (const mode of MODES) {
      QuantizedIndex.threads = mode === '1' ? 1 : 2;
      helperMode.rest = mode !== '2-norest';
      const cpu = process.cpuUsage();
      for (const p of probes) {
        const t = performance.now();
        idx.candidateRows(p, want);
        at[mode]!.wall.push(performance.now() - t);
      }
      const used = process.cpuUsage(cpu);
      at[mode]!.cpu.push((used.user + used.system) / 1000 / CALLS);
    }
  load.push(loadavg()[0]!);
  hog?.kill();
  release();
  const row = {
    size,
    ...Object.fromEntries(
      MODES.map((m) => [
        m,
        { wallP50: percentile(at[m]!.wall, 50), wallP99: percentile(at[m]!.wall, 99), cpu: percentile(at[m]!.cpu, 50) },
      ]),
    ),
    helper: Object.fromEntries(Object.entries(helperStats).map(([k, v]) => [k, v - before[k as keyof typeof before]])),
    load,
  };
  out.push(row);
  log(JSON.stringify(row));
}
idx.close();
process.stdout.write(JSON.stringify(out) + '\n');

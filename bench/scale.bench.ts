// Scale: a gallery of 1M (SCALE=10M: 10M, or any count) templates, real lfw-dev probes whose mates
// are planted among face-like distractors (support/distractors.ts, fitted on lfw-dev people who are
// neither enrolled nor probes). Built through GalleryIndex.add, the path the start-up rebuild and the
// index feed take (the store's side of start-up is bench/scale/startup.ts). Prints one JSON line.
import { Worker } from 'node:worker_threads';
import usearch from 'usearch';
import { newId, type PurposeId, type SubjectId, type TemplateId } from '../src/ids.js';
import { GalleryIndex } from '../src/vector/gallery-index.js';
import { AdaptiveIndex } from '../src/vector/adaptive-index.js';
import { loadavg } from 'node:os';
import { spawn } from 'node:child_process';
import { DEFAULT_CALIBRATION } from '../src/face/calibration.default.js';
import { fitDistractors, Gaussian, sampleDistractors } from '../support/distractors.js';
import { lfwEmbeddings } from './scale/lfw.js';
import { histogram, quantile, splitProbes } from './scale/probes.js';
import { percentile } from './stats.js';

const D = 512;
const SCALE = process.env['SCALE'] ?? '1M';
const N = /^\d+M$/i.test(SCALE) ? Number(SCALE.slice(0, -1)) * 1e6 : Number(SCALE);
const CONCURRENCY2 = process.env['SCALE_C2'] !== '0';
// The configurations compared on the same index, share:divisor: the share of rows the short codes
// pre-select (code-scan.ts; 0 is the full 512-bit scan of step 3), and n / divisor rows (at least 512)
// scored on int8 (400 is the default).
const CONFIGS = (process.env['SCALE_RUNS'] ?? '0:400,0.02:400,0.03:400,0.05:400,0.03:1000').split(',').map((c) => {
  const [share, divisor] = c.split(':').map(Number);
  return { share: share!, divisor: divisor ?? 400 };
});
const budget = (divisor: number) => (n: number, k: number) =>
  Math.max(4 * k, Math.min(32_768, Math.max(512, Math.ceil(n / divisor))));
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`scale [${((performance.now() - t0) / 1000).toFixed(0)} s]: ${s}\n`);
const rss = () => process.memoryUsage().rss / 2 ** 20;
const threshold = DEFAULT_CALIBRATION.threshold;

const lfw = await lfwEmbeddings(log);
const set = splitProbes(lfw);
const model = fitDistractors(set.fit, D);
const M = set.mates.length;
const total = N + M;
log(`${M} mated probes, ${set.nonMated.length} non-mated, distractors fitted on ${set.fit.length / D} embeddings`);

// Every row, shared so the concurrency-2 searchers and the exact reference read the same bytes.
// Mates first: the quantised index is centred on the first rows it holds, as in a real gallery.
const shared = new SharedArrayBuffer(total * D * 4);
const all = new Float32Array(shared);
set.mates.forEach((v, i) => all.set(v, i * D));
let t = performance.now();
const rng = new Gaussian(1);
for (let at = 0; at < N; at += 65536) sampleDistractors(model, Math.min(65536, N - at), rng, all, M + at);
const generateSeconds = (performance.now() - t) / 1000;
log(`${N} distractors in ${generateSeconds.toFixed(1)} s`);

// Score distributions: real impostors (probe vs other people's enrolled photos) and probe vs distractor.
const real: number[] = [];
set.mated.forEach((p, i) =>
  set.mates.forEach((m, j) => {
    if (i !== j) real.push(dot(p, m));
  }),
);
const synthetic: number[] = [];
for (const p of set.mated.slice(0, 200))
  for (let r = M; r < M + Math.min(N, 20_000); r++) synthetic.push(dot(p, row(r)));
const realScores = Float32Array.from(real);
const syntheticScores = Float32Array.from(synthetic);

// The index, built as rebuild() builds it: ids of the store's length (the row number in base 36, so
// the exact source below finds a row without a map of its own), one subject per template. The
// quantised tier keeps no float vectors: its candidates are re-scored on exact vectors, read here
// from the rows (in the service, read and decrypted from the store: bench/scale/startup.ts times that).
const pid = newId.purpose() as PurposeId;
const templateId = (r: number) => `tpl_${r.toString(36).padStart(16, '0')}` as TemplateId;
const mateIds = Array.from({ length: M }, (_, i) => templateId(i));
const exactReads: number[] = [];
const exact = async (ids: readonly string[]) => {
  exactReads.push(ids.length);
  return new Map(ids.map((id) => [id, row(Number.parseInt(id.slice(4), 36))] as const));
};
const rssBefore = rss();
let adaptive: AdaptiveIndex | undefined;
const gallery = new GalleryIndex(D, { exact, makeIndex: (d) => (adaptive = new AdaptiveIndex(d)) });
t = performance.now();
for (let r = 0; r < total; r++) {
  gallery.add({ templateId: templateId(r), subjectId: newId.subject() as SubjectId, purposeId: pid, vector: row(r) });
}
const buildSeconds = (performance.now() - t) / 1000;
const rssIndex = rss() - rssBefore;
log(`index of ${total} in ${buildSeconds.toFixed(1)} s, +${rssIndex.toFixed(0)} MB RSS`);

// The exact reference: rank 1 over every row for every probe (chunks of rows, every probe per chunk).
t = performance.now();
const exactBest = exactRank1([...set.mated, ...set.nonMated]);
const exactTop = (i: number) => exactBest[i]!;
log(`exact reference in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const probes = [...set.mated, ...set.nonMated];
const quantised = adaptive!.quantisedIndex!;
// Timing only from here: SCALE_LOCK names a lock file shared by benches (flock), held until the end.
const releaseLock = process.env['SCALE_LOCK'] ? await holdLock(process.env['SCALE_LOCK']) : () => {};
const runs = [];
for (const { share, divisor } of CONFIGS) {
  quantised.preselect = share;
  quantised.candidates = budget(divisor);
  runs.push({ share, divisor, ...(await measure()) });
  const r = runs.at(-1)!;
  log(
    `preselect ${share} n/${divisor}: c1 p50/p99 ${r.c1.p50.toFixed(2)}/${r.c1.p99.toFixed(2)} ms (cpu ${r.c1.cpuSeconds.toFixed(1)} s, ` +
      `wall ${r.c1.wallSeconds.toFixed(1)} s); rank 1 exact ${r.rank1.exact}, index ${r.rank1.index}, both ${r.rank1.kept}; ` +
      `DIR ${r.decision.exact.dir}/${r.decision.index.dir}; FPIR ${r.decision.exact.fpir}/${r.decision.index.fpir}; load ${r.load}`,
  );
}

// Concurrency 1: every probe (mated and non-mated) through GalleryIndex.search at the decision threshold,
// then rank 1 by the index vs by exact search over the same rows, and DIR/FPIR at the default threshold.
async function measure() {
  const ms1: number[] = [];
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let rep = 0; rep < 2; rep++)
    for (const p of probes) {
      t = performance.now();
      await gallery.search(pid, p, 5, threshold);
      ms1.push(performance.now() - t);
    }
  const cpuSeconds = (process.cpuUsage().user - cpu.user + process.cpuUsage().system - cpu.system) / 1e6;
  const wallSeconds = (performance.now() - wall) / 1000;
  const load = loadavg()[0]!;
  const readsAtThreshold = exactReads.splice(0);
  let exactHits = 0;
  let kept = 0;
  let indexHits = 0;
  let exactDetected = 0;
  let indexDetected = 0;
  for (const [i, p] of set.mated.entries()) {
    const e = exactTop(i);
    const q = (await gallery.search(pid, p, 1, -1))[0];
    const eHit = e.row === i;
    const qHit = q?.templateId === mateIds[i];
    exactHits += eHit ? 1 : 0;
    indexHits += qHit ? 1 : 0;
    kept += eHit && qHit ? 1 : 0;
    exactDetected += eHit && e.score >= threshold ? 1 : 0;
    indexDetected += qHit && q!.similarity >= threshold ? 1 : 0;
  }
  const readsRank1 = exactReads.splice(0);
  let exactFalse = 0;
  let indexFalse = 0;
  for (const [i, p] of set.nonMated.entries()) {
    exactFalse += exactTop(M + i).score >= threshold ? 1 : 0;
    indexFalse += (await gallery.search(pid, p, 1, threshold)).length ? 1 : 0;
  }
  return {
    c1: { p50: percentile(ms1, 50), p99: percentile(ms1, 99), n: ms1.length, cpuSeconds, wallSeconds },
    load,
    exactReadsPerSearch: {
      atThreshold: { mean: mean(readsAtThreshold, ms1.length), max: Math.max(0, ...readsAtThreshold) },
      rank1: { mean: mean(readsRank1, M), max: Math.max(0, ...readsRank1) },
    },
    rank1: { exact: exactHits, index: indexHits, kept, retention: exactHits ? kept / exactHits : 1 },
    decision: {
      threshold,
      exact: { dir: exactDetected / M, fpir: exactFalse / set.nonMated.length },
      index: { dir: indexDetected / M, fpir: indexFalse / set.nonMated.length },
    },
  };
}

// Concurrency 2: two searchers, each with its own index (as two API processes would have).
const ms2: { share: number; divisor: number; p50: number; p99: number; n: number; load: number }[] = [];
if (CONCURRENCY2) {
  const workers = [0, 1].map(
    () =>
      new Worker(
        new URL(
          'data:text/javascript,' +
            encodeURIComponent(
              `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\nregister();\n` +
                `await import(${JSON.stringify(new URL('./scale/search-worker.ts', import.meta.url).href)});\n`,
            ),
        ),
        { workerData: { rows: shared, n: total, probes } },
      ),
  );
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
  for (const { share, divisor } of CONFIGS) {
    const done = workers.map((w) => new Promise<{ ms: number[] }>((ok) => w.once('message', ok)));
    workers.forEach((w) => w.postMessage({ share, divisor }));
    const ms = (await Promise.all(done)).flatMap((d) => d.ms);
    ms2.push({ share, divisor, p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length, load: loadavg()[0]! });
    log(`preselect ${share} n/${divisor}: c2 p50/p99 ${ms2.at(-1)!.p50.toFixed(2)}/${ms2.at(-1)!.p99.toFixed(2)} ms`);
  }
  await Promise.all(workers.map((w) => w.terminate()));
}

const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  JSON.stringify({
    templates: total,
    distractors: N,
    matedProbes: M,
    nonMatedProbes: set.nonMated.length,
    generateSeconds,
    buildSeconds,
    indexRssMb: rssIndex,
    indexBytesPerTemplate: (rssIndex * 2 ** 20) / total,
    peakRssMb,
    runs,
    c2: ms2,
    scores: {
      realImpostor: { n: realScores.length, p999: quantile(realScores, 0.999), hist: histogram(realScores) },
      distractor: {
        n: syntheticScores.length,
        p999: quantile(syntheticScores, 0.999),
        hist: histogram(syntheticScores),
      },
      histLo: -0.3,
      histStep: 0.05,
    },
  }) + '\n',
);
releaseLock();

/** Waits for an flock(1) lock, held by a child process until the function returned is called. */
async function holdLock(file: string): Promise<() => void> {
  log(`waiting for ${file}`);
  const child = spawn('flock', [file, 'sh', '-c', 'echo taken; cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((ok) => child.stdout.once('data', ok));
  log(
    `lock taken, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  return () => child.stdin.end();
}

function exactRank1(qs: Float32Array[]): { row: number; score: number }[] {
  const queries = new Float32Array(qs.length * D);
  qs.forEach((q, i) => queries.set(q, i * D));
  const best = qs.map(() => ({ row: -1, score: -Infinity }));
  const CH = 65536;
  const chunk = new Float32Array(CH * D);
  for (let at = 0; at < total; at += CH) {
    const n = Math.min(CH, total - at);
    chunk.set(all.subarray(at * D, (at + n) * D));
    const r = usearch.exactSearch(chunk.subarray(0, n * D), queries, D, 1, usearch.MetricKind.IP, 1) as {
      keys: BigUint64Array;
      distances: Float32Array;
    };
    for (let i = 0; i < qs.length; i++) {
      const score = 1 - r.distances[i]!;
      if (score > best[i]!.score) best[i] = { row: at + Number(r.keys[i]!), score };
    }
  }
  return best;
}

/** Templates read for exact re-scoring per search (searches that needed none count as 0). */
function mean(reads: number[], searches: number): number {
  return reads.reduce((a, b) => a + b, 0) / Math.max(1, searches);
}

function row(r: number): Float32Array {
  return all.subarray(r * D, (r + 1) * D);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < D; j++) s += a[j]! * b[j]!;
  return s;
}

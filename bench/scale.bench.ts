// Scale: a gallery of 1M (SCALE=10M: 10M, or any count) templates, real lfw-dev probes whose mates
// are planted among face-like distractors (support/distractors.ts, fitted on lfw-dev people who are
// neither enrolled nor probes). Built through GalleryIndex.add, the path the start-up rebuild and the
// index feed take (the store's side of start-up is bench/scale/startup.ts). Prints one JSON line.
import usearch from 'usearch';
import { newId, type PurposeId, type SubjectId, type TemplateId } from '../src/ids.js';
import { GalleryIndex } from '../src/vector/gallery-index.js';
import { AdaptiveIndex } from '../src/vector/adaptive-index.js';
import { loadavg } from 'node:os';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../src/face/calibration.default.js';
import { FPIR_LIMITS, openSetThreshold } from '../src/gallery/open-set.js';
import { fitDistractors } from '../support/distractors.js';
import { GemmTopK, StreamingTopK, type Ranked } from '../support/exact-reference.js';
import { distractorRow, rowStream, streamRows, tsWorker } from './scale/stream.js';
import { lfwEmbeddings } from './scale/lfw.js';
import { histogram, quantile, splitProbes } from './scale/probes.js';
import { percentile } from './stats.js';
import { StageClock } from '../src/vector/stage-clock.js';
import type { Int8Kernel } from '../src/vector/int8-stage.js';
import { holdLock } from './scale/bench-lock.js';
import { QuantizedIndex } from '../src/vector/quantized-index.js';
import { helperStats } from '../src/vector/search-helper.js';

const D = 512;
const SCALE = process.env['SCALE'] ?? '1M';
const N = /^\d+M$/i.test(SCALE) ? Number(SCALE.slice(0, -1)) * 1e6 : Number(SCALE);
const CONCURRENCY2 = process.env['SCALE_C2'] !== '0';
// The configurations compared on the same index, share:divisor: the share of rows the short codes
// pre-select (code-scan.ts; 0 is the full 512-bit scan of step 3), and n / divisor rows (at least 512)
// scored on int8 (2000 is the default), the int8 stage's kernel ('wasm', the default, or 'js', the
// JavaScript loop before it: int8-stage.ts), and the threads of a search (QuantizedIndex.threads: 2, the
// default, splits the Hamming stages with the search helper, shared-scan.ts; 1 runs them on one thread).
const CONFIGS = (process.env['SCALE_RUNS'] ?? '0.03:2000:wasm:1,0.03:2000:wasm:2').split(',').map((c) => {
  const [share, divisor, kernel, threads] = c.split(':');
  return {
    share: Number(share),
    divisor: Number(divisor ?? 2000),
    kernel: (kernel ?? 'wasm') as Int8Kernel,
    threads: Number(threads ?? 2),
  };
});
const budget = (divisor: number) => (n: number, k: number) =>
  Math.max(4 * k, Math.min(32_768, Math.max(512, Math.ceil(n / divisor))));
const t0 = performance.now();
const log = (s: string) => process.stderr.write(`scale [${((performance.now() - t0) / 1000).toFixed(0)} s]: ${s}\n`);
const rss = () => process.memoryUsage().rss / 2 ** 20;
const threshold = DEFAULT_CALIBRATION.threshold;
let t = 0;

const lfw = await lfwEmbeddings(log);
const set = splitProbes(lfw);
const model = fitDistractors(set.fit, D);
const M = set.mates.length;
const total = N + M;
log(`${M} mated probes, ${set.nonMated.length} non-mated, distractors fitted on ${set.fit.length / D} embeddings`);

// The rows stream (bench/scale/stream.ts): mates first (the quantised index is centred on the first
// rows it holds, as in a real gallery), then the seeded distractors, a chunk at a time: each chunk is
// added to the index and scored exactly against every probe (the streaming exact reference), then
// dropped. SCALE_STREAM=0 (the default up to 2M rows) also keeps every row in shared memory for the
// concurrency-2 searchers; SCALE_STREAM=1 (the default above) keeps none, and the exact re-score makes
// a distractor again from its saved generator state. SCALE_CHECK=1 compares the streamed reference
// with an exact search over the held rows, per probe, and rows made again with the held ones.
const STREAM = process.env['SCALE_STREAM'] ? process.env['SCALE_STREAM'] === '1' : N > 2_000_000;
const CHECK = process.env['SCALE_CHECK'] === '1';
if (STREAM && CHECK) throw new Error('SCALE_CHECK compares with the held rows: run it with SCALE_STREAM=0');
const probes = [...set.mated, ...set.nonMated];
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});
const rssStart = rss();
const shared = STREAM ? null : new SharedArrayBuffer(total * D * 4);
const all = shared ? new Float32Array(shared).fill(1) : null; // touched: its pages are scratch, not index
// SCALE_GENERATORS worker threads make the distractors (default 2), each its own chunks of the one stream.
const stream = rowStream(N, 65536, Number(process.env['SCALE_GENERATORS'] ?? 2));
// The exact reference: usearch's exact scores, top 1 per probe; SCALE_EXACT=usearch scores every row with
// usearch (the reference before the GEMM pre-filter, about 5x the CPU).
const reference =
  process.env['SCALE_EXACT'] === 'usearch' ? new StreamingTopK(probes, D, 1) : await GemmTopK.create(probes, D, 1);
gc();
const rssBefore = rss();
const scratchMb = rssBefore - rssStart;

// The index, built as rebuild() builds it: ids of the store's length (the row number in base 36, so
// the exact source below finds a row without a map of its own), one subject per template. The
// quantised tier keeps no float vectors: its candidates are re-scored on exact vectors, read here
// from the held rows or made again (in the service, read and decrypted from the store:
// bench/scale/startup.ts times that); the time that takes is counted apart (`readMs`).
const pid = newId.purpose() as PurposeId;
const templateId = (r: number) => `tpl_${r.toString(36).padStart(16, '0')}` as TemplateId;
const mateIds = Array.from({ length: M }, (_, i) => templateId(i));
const exactReads: number[] = [];
let readMs = 0;
const exact = async (ids: readonly string[]) => {
  const t = performance.now();
  exactReads.push(ids.length);
  const m = new Map(ids.map((id) => [id, row(Number.parseInt(id.slice(4), 36))] as const));
  readMs += performance.now() - t;
  return m;
};
let adaptive: AdaptiveIndex | undefined;
const gallery = new GalleryIndex(D, { exact, makeIndex: (d) => (adaptive = new AdaptiveIndex(d)) });
// Score distributions: real impostors (probe vs other people's enrolled photos) and probe vs distractor.
const real: number[] = [];
set.mated.forEach((p, i) =>
  set.mates.forEach((m, j) => {
    if (i !== j) real.push(dot(p, m));
  }),
);
const synthetic: number[] = [];
let buildSeconds = 0;
let exactSeconds = 0;
t = performance.now();
const streamed = await streamRows(stream, model, set.mates, N, async (rows, n, first) => {
  all?.set(rows.subarray(0, n * D), first * D);
  let t1 = performance.now();
  for (let i = 0; i < n; i++) {
    const vector = rows.subarray(i * D, (i + 1) * D);
    gallery.add({ templateId: templateId(first + i), subjectId: newId.subject() as SubjectId, purposeId: pid, vector });
  }
  buildSeconds += (performance.now() - t1) / 1000;
  t1 = performance.now();
  await reference.addChunk(rows, n, first);
  exactSeconds += (performance.now() - t1) / 1000;
  for (let r = Math.max(first, M); r < Math.min(first + n, M + Math.min(N, 20_000)); r++)
    for (const p of set.mated.slice(0, 200))
      synthetic.push(dot(p, rows.subarray((r - first) * D, (r - first + 1) * D)));
  if ((first / 65536) % 16 === 15)
    log(
      `${first + n} rows streamed, RSS ${rss().toFixed(0)} MB; so far index add ${buildSeconds.toFixed(0)} s, ` +
        `exact reference ${exactSeconds.toFixed(0)} s, load ${loadavg()[0]!.toFixed(1)}`,
    );
});
const streamSeconds = (performance.now() - t) / 1000;
const generateSeconds = streamed.generateSeconds;
gc();
const rssBuilt = rss();
const rssIndex = rssBuilt - rssBefore;
const realScores = Float32Array.from(real);
const syntheticScores = Float32Array.from(synthetic);
log(
  `${total} rows in ${streamSeconds.toFixed(1)} s: distractors ${generateSeconds.toFixed(1)} s (${streamed.generators} workers, summed), index add ` +
    `${buildSeconds.toFixed(1)} s, exact reference ${exactSeconds.toFixed(1)} s (${'rescored' in reference ? reference.rescored : total} rows scored by usearch), waiting ${streamed.waitSeconds.toFixed(1)} s; ` +
    `RSS ${rssBuilt.toFixed(0)} MB, +${rssIndex.toFixed(0)} MB for the index (scratch ${scratchMb.toFixed(0)} MB before)`,
);
const exactTop = (i: number) => reference.top(i)[0]!;
const check = CHECK ? checkReference() : null;
const quantised = adaptive!.quantisedIndex!;
// The default decision rule: the open-set threshold for the purpose's default target FPIR at this size.
const openSet = openSetThreshold({
  gallerySize: total,
  fpir: FPIR_LIMITS.default,
  tail: DEFAULT_IMPOSTOR_TAIL,
  minimum: threshold,
});
// Timing only from here: SCALE_LOCK names a lock file shared by benches (flock), held until the end.
const releaseLock = process.env['SCALE_LOCK'] ? await holdLock(process.env['SCALE_LOCK'], log) : () => {};
const runs = [];
for (const { share, divisor, kernel, threads } of CONFIGS) {
  quantised.preselect = share;
  quantised.candidates = budget(divisor);
  quantised.int8Kernel = kernel;
  QuantizedIndex.threads = threads;
  const before = { ...helperStats };
  runs.push({ share, divisor, kernel, threads, ...(await measure()), helper: since(before) });
  const r = runs.at(-1)!;
  log(
    `preselect ${share} n/${divisor} ${kernel} threads ${threads}: helper ${JSON.stringify(r.helper)}; c1 p50/p99 ${r.c1.p50.toFixed(2)}/${r.c1.p99.toFixed(2)} ms (cpu ${r.c1.cpuSeconds.toFixed(1)} s, ` +
      `stages ms ${JSON.stringify(r.stagesMs)}; ` +
      `wall ${r.c1.wallSeconds.toFixed(1)} s); c2 one index p50/p99 ${r.c2OneIndex.p50.toFixed(2)}/${r.c2OneIndex.p99.toFixed(2)} ms ` +
      `(${r.c2OneIndex.searchesPerSecond.toFixed(0)}/s); rank 1 exact ${r.rank1.exact}, index ${r.rank1.index}, both ${r.rank1.kept}; ` +
      `DIR ${r.decision.exact.dir}/${r.decision.index.dir}; FPIR ${r.decision.exact.fpir}/${r.decision.index.fpir}; ` +
      `at ${openSet} DIR ${r.openSet.exact.dir}/${r.openSet.index.dir} FPIR ${r.openSet.exact.fpir}/${r.openSet.index.fpir}; ` +
      `reads ${r.readMsPerSearch.mean.toFixed(2)} ms/search; load ${r.load}`,
  );
}

// Concurrency 1: every probe (mated and non-mated) through GalleryIndex.search at the decision threshold,
// then rank 1 by the index vs by exact search over the same rows, and DIR/FPIR at the default threshold.
async function measure() {
  const ms1: number[] = [];
  const read1: number[] = [];
  const cpu = process.cpuUsage();
  const wall = performance.now();
  for (let rep = 0; rep < 2; rep++)
    for (const p of probes) {
      t = performance.now();
      const r0 = readMs;
      await gallery.search(pid, p, 5, threshold);
      ms1.push(performance.now() - t);
      read1.push(readMs - r0);
    }
  const searchOnly = ms1.map((x, i) => x - read1[i]!);
  const cpuSeconds = (process.cpuUsage().user - cpu.user + process.cpuUsage().system - cpu.system) / 1e6;
  const wallSeconds = (performance.now() - wall) / 1000;
  const load = loadavg()[0]!;
  const sharedC2 = await twoClients();
  // The stages, timed in a second pass (the clock's own cost stays out of the latencies above): mean
  // ms per search; 'rest' is GalleryIndex's part (the exact re-score, its reads and the per-subject best).
  const clock = (quantised.clock = new StageClock());
  const whole = performance.now();
  for (const p of probes) await gallery.search(pid, p, 5, threshold);
  const perSearch = (performance.now() - whole) / probes.length;
  quantised.clock = undefined;
  const stagesMs = Object.fromEntries(Object.entries(clock.take()).map(([s, ms]) => [s, ms / probes.length]));
  stagesMs['rest'] = perSearch - Object.values(stagesMs).reduce((a, b) => a + b, 0);
  const readsAtThreshold = exactReads.splice(0);
  let exactHits = 0;
  let kept = 0;
  let indexHits = 0;
  let exactDetected = 0;
  let indexDetected = 0;
  let exactDetectedOpen = 0;
  let indexDetectedOpen = 0;
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
    exactDetectedOpen += eHit && e.score >= openSet ? 1 : 0;
    indexDetectedOpen += qHit && q!.similarity >= openSet ? 1 : 0;
  }
  const readsRank1 = exactReads.splice(0);
  let exactFalse = 0;
  let indexFalse = 0;
  let exactFalseOpen = 0;
  let indexFalseOpen = 0;
  for (const [i, p] of set.nonMated.entries()) {
    exactFalse += exactTop(M + i).score >= threshold ? 1 : 0;
    indexFalse += (await gallery.search(pid, p, 1, threshold)).length ? 1 : 0;
    exactFalseOpen += exactTop(M + i).score >= openSet ? 1 : 0;
    indexFalseOpen += (await gallery.search(pid, p, 1, openSet)).length ? 1 : 0;
  }
  return {
    c1: { p50: percentile(ms1, 50), p99: percentile(ms1, 99), n: ms1.length, cpuSeconds, wallSeconds },
    c2OneIndex: sharedC2,
    cpuMsPerSearch: (cpuSeconds * 1000) / ms1.length,
    stagesMs,
    // The same searches less the time the exact rows took to read (held) or make again (streamed).
    c1WithoutReads: { p50: percentile(searchOnly, 50), p99: percentile(searchOnly, 99) },
    readMsPerSearch: { mean: read1.reduce((a, b) => a + b, 0) / read1.length, p99: percentile(read1, 99) },
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
    openSet: {
      threshold: openSet,
      exact: { dir: exactDetectedOpen / M, fpir: exactFalseOpen / set.nonMated.length },
      index: { dir: indexDetectedOpen / M, fpir: indexFalseOpen / set.nonMated.length },
    },
  };
}

// Concurrency 2 against one index, as one API process serves two clients at once: two closed loops,
// each sending its next probe as soon as its previous answer came. A request's time runs from then
// (the previous answer) to its answer, so the time it waits while the other client's search holds
// the thread counts, as it would over HTTP. The only concurrency 2 a streamed bench runs (below).
async function twoClients() {
  const ms: number[] = [];
  let next = 0;
  const client = async (start: number) => {
    let sent = start;
    while (next < probes.length) {
      const p = probes[next++]!;
      await gallery.search(pid, p, 5, threshold);
      const done = performance.now();
      ms.push(done - sent);
      sent = done;
    }
  };
  const wall = performance.now();
  await Promise.all([client(wall), client(wall)]);
  const wallSeconds = (performance.now() - wall) / 1000;
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), n: ms.length, searchesPerSecond: ms.length / wallSeconds };
}

// Concurrency 2: two searchers, each with its own index (as two API processes would have), over the
// held rows: not with SCALE_STREAM=1 (no rows held, and two more indexes would not fit at 10M).
const ms2: {
  share: number;
  divisor: number;
  kernel: string;
  threads: number;
  p50: number;
  p99: number;
  cpuMsPerSearch: number;
  n: number;
  load: number;
}[] = [];
if (CONCURRENCY2 && shared) {
  // The concurrency-1 index goes first (its int8 rows and maps; about 0.9 GB at 1M), so that the two
  // searchers' own indexes fit beside the held rows (peak RSS about 4 GB at 1M instead of 5).
  for (const id of quantised.ids()) quantised.remove(id);
  gallery.clear();
  gc();
  const workers = [0, 1].map(() =>
    tsWorker(new URL('./scale/search-worker.ts', import.meta.url), { rows: shared, n: total, probes }),
  );
  await Promise.all(workers.map((w) => new Promise((ok) => w.once('message', ok))));
  for (const { share, divisor, kernel, threads } of CONFIGS) {
    const done = workers.map((w) => new Promise<{ ms: number[] }>((ok) => w.once('message', ok)));
    const cpu = process.cpuUsage();
    workers.forEach((w) => w.postMessage({ share, divisor, kernel, threads }));
    const ms = (await Promise.all(done)).flatMap((d) => d.ms);
    const used = process.cpuUsage(cpu);
    const cpuMsPerSearch = (used.user + used.system) / 1000 / ms.length;
    const [p50, p99] = [percentile(ms, 50), percentile(ms, 99)];
    ms2.push({ share, divisor, kernel, threads, p50, p99, cpuMsPerSearch, n: ms.length, load: loadavg()[0]! });
    log(
      `preselect ${share} n/${divisor} ${kernel} threads ${threads}: c2 p50/p99 ${p50.toFixed(2)}/${p99.toFixed(2)} ms, ` +
        `cpu ${cpuMsPerSearch.toFixed(2)} ms/search`,
    );
  }
  await Promise.all(workers.map((w) => w.terminate()));
} else if (CONCURRENCY2) log('concurrency 2 not run: the rows are streamed, not held (SCALE_STREAM=1)');

const peakRssMb = process.resourceUsage().maxRSS / 1024;
process.stdout.write(
  JSON.stringify({
    templates: total,
    distractors: N,
    matedProbes: M,
    nonMatedProbes: set.nonMated.length,
    streamed: STREAM,
    generateSeconds,
    buildSeconds,
    exactReferenceSeconds: exactSeconds,
    streamSeconds,
    scratchMb,
    processRssAfterBuildMb: rssBuilt,
    indexRssMb: rssIndex,
    indexBytesPerTemplate: (rssIndex * 2 ** 20) / total,
    peakRssMb,
    check,
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

/**
 * SCALE_CHECK: the streamed reference against one exact search over every held row at once (top-1
 * row and score per probe, compared exactly), and distractors made again against the held ones.
 */
function checkReference() {
  const queries = new Float32Array(probes.length * D);
  probes.forEach((q, i) => queries.set(q, i * D));
  const t1 = performance.now();
  const whole = usearch.exactSearch(new Float32Array(all!), queries, D, 1, usearch.MetricKind.IP, 1) as {
    keys: BigUint64Array;
    distances: Float32Array;
  };
  const differ: { probe: number; streamed: Ranked; whole: Ranked }[] = [];
  probes.forEach((_, i) => {
    const w = { row: Number(whole.keys[i]!), score: 1 - whole.distances[i]! };
    const s = exactTop(i);
    if (s.row !== w.row || s.score !== w.score) differ.push({ probe: i, streamed: s, whole: w });
  });
  const rowsChecked = Math.min(N, 2000);
  let rowsDiffer = 0;
  for (let k = 0; k < rowsChecked; k++) {
    const i = k === rowsChecked - 1 ? N - 1 : Math.floor((k * N) / rowsChecked);
    const again = distractorRow(model, stream.states, i);
    const held = all!.subarray((M + i) * D, (M + i + 1) * D);
    if (again.some((x, j) => x !== held[j])) rowsDiffer++;
  }
  const r = { probes: probes.length, top1Differ: differ.length, differ: differ.slice(0, 5), rowsChecked, rowsDiffer };
  log(`check (${((performance.now() - t1) / 1000).toFixed(1)} s): ${JSON.stringify(r)}`);
  return r;
}

/** The search helper's counts since `before` (search-helper.ts). */
function since(before: typeof helperStats) {
  return Object.fromEntries(Object.entries(helperStats).map(([k, v]) => [k, v - before[k as keyof typeof before]]));
}

/** Templates read for exact re-scoring per search (searches that needed none count as 0). */
function mean(reads: number[], searches: number): number {
  return reads.reduce((a, b) => a + b, 0) / Math.max(1, searches);
}

/** Row r: a mate, or a distractor held or made again. */
function row(r: number): Float32Array {
  if (all) return all.subarray(r * D, (r + 1) * D);
  return r < M ? set.mates[r]! : distractorRow(model, stream.states, r - M);
}

function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let j = 0; j < D; j++) s += a[j]! * b[j]!;
  return s;
}

// Identify end to end over HTTP at a 100,000-template gallery (issue target: p99 <= 60 ms for one-face
// 640 px probes, one engine worker per core), at concurrency 1 and at 30 req/s. The server is a real
// `veil serve` process; the gallery is bulk-seeded with distractors (seedBulk), the probes are real
// one-face photos scaled to 640 px. Baselines in the same run: the same probes at full size (large
// probes), and the engine alone in this process (detect + align + embed), so the HTTP, decode,
// search and accounting overhead shows as the difference.
//
// Issue 17 item 5: every measure is taken twice in the same run, with the engine's warm-up
// (VEIL_ENGINE_WARMUP, default 8 passes) and without it (0, the engine before the change), the
// servers alternating old/new/new/old over IDENTIFY_PAIRS pairs. IDENTIFY_DIR keeps the seeded
// gallery between runs (seeded when empty; IDENTIFY_SEED_ONLY=1 seeds and exits, so the timed run
// can hold the bench lock without the seeding).
//
// Every server runs with VEIL_SERVER_TIMING=1: each 30 req/s row also reports each stage's p50 / p99
// and what its slowest requests were made of (bench/stages.ts). IDENTIFY_AB=NAME=old,new alternates
// the servers on another setting instead of the warm-up (old/new/new/old as above), e.g. a change's
// before and after in one run.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import sharp from 'sharp';
import { actors } from '../src/auth/actor.js';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import { LazyEngine } from '../src/face/lazy-engine.js';
import type { PurposeId } from '../src/ids.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';
import { seedBulk } from './scale/startup.js';
import { openLoop } from './open-loop.js';
import { summariseStages, type StageSummary } from './stages.js';
import { startServer } from './serve.js';
import { median, percentile } from './stats.js';
import { benchPurpose } from './seed.js';

const GALLERY = Number(process.env['IDENTIFY_GALLERY'] ?? 100_000);
const SECONDS = Number(process.env['IDENTIFY_SECONDS'] ?? 30);
const ROUNDS = Number(process.env['IDENTIFY_ROUNDS'] ?? 12);
const PAIRS = Number(process.env['IDENTIFY_PAIRS'] ?? 1);
const WARM = Number(process.env['IDENTIFY_WARMUP'] ?? 8);
const [abName, abValues] = (process.env['IDENTIFY_AB'] ?? `VEIL_ENGINE_WARMUP=0,${WARM}`).split('=');
const [abOld, abNew] = abValues!.split(',') as [string, string];
const log = (s: string) => process.stderr.write(`identify: ${s}\n`);

const keep = process.env['IDENTIFY_DIR'];
const dataDir = keep ?? tempDir('veil-identify-bench-');
const tokenFile = join(dataDir, 'bench-token');
let seedSeconds = 0;
if (!existsSync(tokenFile)) {
  mkdirSync(dataDir, { recursive: true });
  const v = await openVeil({ dataDir, engine: new LazyEngine(), env: {} });
  const actor = actors.system('bench');
  const purpose = await benchPurpose(v, 'events');
  const unit = (i: number): Float32Array => {
    // A deterministic pseudo-random direction per row: cheap, and the scan cost does not depend on it.
    const x = new Float32Array(512);
    let s = 0;
    let h = (i + 1) * 2654435761;
    for (let d = 0; d < 512; d++) {
      h = (h ^ (h >>> 13)) * 1274126177;
      x[d] = ((h >>> 0) / 2 ** 32 - 0.5) * (1 + (d % 7) / 7);
      s += x[d]! * x[d]!;
    }
    return x.map((y) => y / Math.sqrt(s));
  };
  const t0 = performance.now();
  await seedBulk(v, purpose.id as PurposeId, GALLERY, unit, log);
  seedSeconds = (performance.now() - t0) / 1000;
  const { token } = await v.apiKeys.create(actor, { name: 'bench', role: 'operator', purposes: ['*'] });
  await v.close();
  writeFileSync(tokenFile, token, { mode: 0o600 });
}
if (process.env['IDENTIFY_SEED_ONLY'] === '1') process.exit(0);
const token = readFileSync(tokenFile, 'utf8');

// One-face probes: the first photo of each deepface_small person (640 px long side, as the target
// says), and, as the large-probe baseline, the 720p-3356 px one-face Obama photos of face_recognition.
const firstOf = (dir: string) => join(dir, readdirSync(dir).sort()[0]!);
const ids = readdirSync(join(FACES, 'deepface_small')).filter((d) => d.startsWith('id'));
const at640 = ids.map((d) => readFileSync(firstOf(join(FACES, 'deepface_small', d))));
const large = [
  'ex_obama-720p.jpg',
  'ex_obama-1080p.jpg',
  'knn_test_obama1.jpg',
  'test_obama.jpg',
  'test_obama3.jpg',
].map((f) => readFileSync(join(FACES, 'face_recognition/obama', f)));
const sizes = await Promise.all(large.map(async (b) => (await sharp(b).metadata()).width ?? 0));

// The engine alone on the 640 px probes, in this process: the floor of an identify. The warmed engine
// goes first, in the fresh process; the cold one (warmUp 0, the engine before issue 17 item 5) second,
// when V8 and libvips are already warm here, which favours the baseline.
async function engineAlone(warmUp: number) {
  const t = performance.now();
  const engine = await FaceEngine.create({ warmUp });
  const createMs = performance.now() - t;
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const b of at640) {
      const c = process.cpuUsage();
      const s = performance.now();
      await engine.analyze(b);
      ms.push(performance.now() - s);
      const u = process.cpuUsage(c);
      cpu.push((u.user + u.system) / 1000);
    }
  }
  const rest = ms.slice(at640.length);
  return {
    warmUp,
    createMs,
    p50: median(ms),
    p99: percentile(ms, 99),
    cpuP50: median(cpu),
    cpuP99: percentile(cpu, 99),
    firstRoundMedian: median(ms.slice(0, at640.length)),
    laterRoundsP99: percentile(rest, 99),
    n: ms.length,
  };
}
const engineAlone640 = [await engineAlone(WARM), await engineAlone(0)];

const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
const bodyOf = (b: Buffer) =>
  JSON.stringify({ purpose: 'events', image: b.toString('base64'), justification: 'bench' });

async function sequential(
  url: string,
  probes: Buffer[],
): Promise<{ p50: number; p99: number; n: number; matches: number; stages: StageSummary | null }> {
  const bodies = probes.map(bodyOf);
  const lat: number[] = [];
  const samples: { ms: number; serverTiming: string | null }[] = [];
  let matches = 0;
  for (let r = 0; r < ROUNDS; r++) {
    for (const body of bodies) {
      const s = performance.now();
      const res = await fetch(`${url}/v1/identify`, { method: 'POST', headers, body });
      const j = (await res.json()) as { faces?: unknown[] };
      lat.push(performance.now() - s);
      samples.push({ ms: lat.at(-1)!, serverTiming: res.headers.get('server-timing') });
      if (res.status !== 200) throw new Error(`identify answered ${res.status}: ${JSON.stringify(j).slice(0, 200)}`);
      if (j.faces?.length) matches++;
    }
  }
  return { p50: median(lat), p99: percentile(lat, 99), n: lat.length, matches, stages: summariseStages(samples) };
}

/** One server with the A/B setting at `value`: start-up, concurrency 1 (640 px, then large probes), 30 req/s. */
async function served(value: string) {
  const t0 = performance.now();
  const env = { VEIL_ENGINE_WARMUP: String(WARM), VEIL_SERVER_TIMING: '1', [abName!]: value };
  const server = await startServer(dataDir, { logs: true, env });
  const startSeconds = (performance.now() - t0) / 1000;
  const { url } = server;
  const load = loadavg()[0];
  // Every thread of the server process (main, engine workers, libuv, libvips, V8), counted once ready.
  const threads = readdirSync(`/proc/${server.pid}/task`).length;
  // Two requests first, as before the warm-up existed (the bench's own warm-up of the first worker).
  await sequential(url, at640.slice(0, 2));
  const c1at640 = await sequential(url, at640);
  const c1large = await sequential(url, large);
  const cpu0 = cpuSeconds(server.pid);
  const wall0 = performance.now();
  const at30 = await openLoop({
    url: `${url}/v1/identify`,
    headers,
    bodies: at640.map(bodyOf),
    rate: 30,
    seconds: SECONDS,
  });
  const raw = process.env['IDENTIFY_RAW'];
  if (raw) writeFileSync(`${raw}-${runs.length}-${value}.json`, JSON.stringify(at30.samples));
  delete at30.samples;
  const at30Server = { cpuSeconds: cpuSeconds(server.pid) - cpu0, wallSeconds: (performance.now() - wall0) / 1000 };
  const loadAfter30 = loadavg()[0];
  await server.stop();
  logStages(`${abName}=${value}: concurrency 1`, c1at640);
  logStages(`${abName}=${value}: 30 req/s`, at30);
  return {
    setting: `${abName}=${value}`,
    warmUp: abName === 'VEIL_ENGINE_WARMUP' ? Number(value) : WARM,
    workers: server.workers,
    threads,
    startSeconds,
    loadAverageAtStart: load,
    concurrency1at640: c1at640,
    concurrency1large: c1large,
    at30rps640: at30,
    at30Server,
    loadAverageAfter30: loadAfter30,
  };
}

/** A run's per-stage table on stderr, as it finishes. */
function logStages(label: string, r: { p50: number; p99: number; stages?: StageSummary | null }): void {
  const t = r.stages;
  if (!t) return;
  const head = `p50 / p99 ${r.p50.toFixed(1)} / ${r.p99.toFixed(1)} ms; per stage p50 / p99 / mean of the slowest ${t.tailP99n} / of ${t.tailP95n}`;
  log(`${label} ${head}:`);
  for (const x of t.rows)
    log(
      `  ${x.stage.padEnd(11)} ${[x.p50, x.p99, x.tailP99Mean, x.tailP95Mean].map((v) => v.toFixed(1).padStart(6)).join(' ')}`,
    );
}

/** User + system CPU seconds of a process so far (Linux /proc; clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

const runs: Awaited<ReturnType<typeof served>>[] = [];
for (let p = 0; p < PAIRS; p++) {
  for (const v of p % 2 ? [abNew, abOld] : [abOld, abNew]) {
    log(`server with ${abName}=${v}`);
    runs.push(await served(v));
  }
}
const cpu = process.resourceUsage();
process.stdout.write(
  JSON.stringify({
    gallery: GALLERY,
    seedSeconds,
    largeProbeWidths: sizes,
    benchProcessCpuSeconds: (cpu.userCPUTime + cpu.systemCPUTime) / 1e6,
    loadAverageAtEnd: loadavg(),
    ab: { name: abName, old: abOld, new: abNew },
    engineAlone640,
    servers: runs,
  }) + '\n',
);

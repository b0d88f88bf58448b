// Start-up with and without the sealed index snapshot, and erasure with it, at SNAPSHOT_N templates
// (default 1,000,000) bulk-seeded as bench/scale/startup.ts does (one subject, key and template each).
//
// The index part of start-up (store and keyring open; FaceDataLifecycle.rebuild's startIndex) is timed
// alone, wall and CPU seconds of the process (worker threads included), alternating: a full rebuild
// (every template read and decrypted, workers from 4,096 on) and a start from the snapshot (segments
// opened, matchable ids read, nothing decrypted). Then the whole instance is opened (openVeil, loading
// the snapshot) and SNAPSHOT_ERASE people are erased through the lifecycle, each timed, while the
// segments they destroy are written again in the background (the rewrite's runs timed); then one more
// index start from the snapshot. SNAPSHOT_ERASE_DURING more people (default 4) are erased once the
// rewrite has started. Then the same without the rewrite (as before it existed): that start reads
// again the ranges of the segments those erasures destroyed. Each start says how the snapshot was
// checked (`check`: 'narrow', only what the change feed names since the segments' position;
// otherwise why every template was read).
//
//   SNAPSHOT_N=1000000 [SNAPSHOT_DIR=/tmp/dir to reuse] nice -n 10 node --import tsx bench/scale/snapshot.ts
//
// On PostgreSQL: SNAPSHOT_PG_URL=postgres://admin-url seeds a fresh database on that server (its URL is
// printed); SNAPSHOT_DATABASE_URL=postgres://... with SNAPSHOT_DIR reuses one.
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { actors } from '../../src/auth/actor.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import { openStore } from '../../src/store/store.js';
import { MasterKey } from '../../src/privacy/keys.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import { TemplateVault } from '../../src/gallery/template-vault.js';
import { liveIndex, startIndex } from '../../src/gallery/index-startup.js';
import { MODELS } from '../../src/face/models.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { createDatabase, tempDir } from '../../support/database.js';
import { seedBulk } from './startup.js';
import { benchPurpose } from '../seed.js';

const n = Number(process.env['SNAPSHOT_N'] ?? 1_000_000);
const fullRounds = Number(process.env['SNAPSHOT_FULL_ROUNDS'] ?? 2);
const snapshotRounds = Number(process.env['SNAPSHOT_ROUNDS'] ?? 3);
// Starts from the snapshot checked in full (every template's matchability read, as before the narrow check).
const checkRounds = Number(process.env['SNAPSHOT_CHECK_ROUNDS'] ?? 1);
const erasures = Number(process.env['SNAPSHOT_ERASE'] ?? 5);
// Erasures of people in other ranges once the rewrite of the first ones has started.
const during = Number(process.env['SNAPSHOT_ERASE_DURING'] ?? 4);
const log = (s: string) => process.stderr.write(`snapshot: ${s}\n`);
// SNAPSHOT_TRACE=1: a step's label and its time (ms since the erasure began) from a hook a traced build calls (globalThis.__vt).
const trace: [string, number][] = [];
if (process.env['SNAPSHOT_TRACE'] === '1')
  (globalThis as unknown as { __vt: (l: string) => void }).__vt = (l) => {
    trace.push([l, performance.now()]);
    if (l.startsWith('rw:')) rwTrace.push([l, performance.now()]);
  };
const rwTrace: [string, number][] = [];
// SNAPSHOT_DIR naming a directory without a database: seeded there (SNAPSHOT_SEED_ONLY=1: then exits).
const reuse =
  process.env['SNAPSHOT_DIR'] && existsSync(join(process.env['SNAPSHOT_DIR'], 'veil.db'))
    ? process.env['SNAPSHOT_DIR']
    : undefined;
const dataDir = process.env['SNAPSHOT_DIR'] ?? tempDir('veil-scale-snapshot-');
mkdirSync(dataDir, { recursive: true });
const engine = new FakeAnalyzer();
const pgAdmin = process.env['SNAPSHOT_PG_URL'];
const databaseUrl =
  process.env['SNAPSHOT_DATABASE_URL'] ?? (pgAdmin && !reuse ? await createDatabase(pgAdmin, 'veil_snap_') : undefined);
if (databaseUrl) log(`database ${databaseUrl}`);
const { openVeil } = await import('../../src/app/veil.js');

const timed = async <T>(fn: () => Promise<T>) => {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const value = await fn();
  const c = process.cpuUsage(c0);
  return { value, t0, seconds: (performance.now() - t0) / 1000, cpuSeconds: (c.user + c.system) / 1e6 };
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (!reuse) {
  const seed = await timed(async () => {
    const v = await openVeil({ dataDir, engine, env: {}, databaseUrl, index: { snapshot: false } });
    const purpose = await benchPurpose(v, 'scale');
    await seedBulk(v, purpose.id as PurposeId, n, randomUnit, log);
    await v.close();
  });
  log(`seeded ${n} in ${seed.seconds.toFixed(0)} s`);
  if (process.env['SNAPSHOT_SEED_ONLY'] === '1') process.exit(0);
}

// The index part of start-up, as openVeil runs it, on its own.
// A reused directory seeded by an older Veil gets the pending migrations (e.g. segments' feed position).
const store = await openStore({ sqlitePath: join(dataDir, 'veil.db'), databaseUrl, migrations: 'apply' });
const { master } = MasterKey.load(dataDir, undefined);
const { keyring } = await openKeyRing({ store, master, dataDir });
const vault = new TemplateVault({ keyring, dataDir, model: MODELS.embedder.id });
const start = (snapshot: boolean, snapshotMaxAgeMs?: number) =>
  timed(async () => {
    const opts = { snapshot, ...(snapshotMaxAgeMs === undefined ? {} : { snapshotMaxAgeMs }) };
    const { index, snapshots } = liveIndex({ store, keyring, vault, dataDir, dims: 512 }, opts);
    const r = await startIndex({ store, vault, index, snapshots });
    return { index, snapshots, r };
  });

const full: { seconds: number; cpuSeconds: number }[] = [];
let templates = 0;
type SnapshotStart = { seconds: number; cpuSeconds: number; decrypted: number; segments: number; ms: object };
const fromSnapshot: (SnapshotStart & { check: string })[] = [];
const fullCheck: (SnapshotStart & { check: string })[] = [];
let write: { seconds: number; cpuSeconds: number; segments: number } | undefined;
// Alternating: full, snapshot, full, snapshot, ... then the remaining starts from the snapshot.
for (let round = 0; round < Math.max(fullRounds, snapshotRounds, checkRounds); round++) {
  if (round < fullRounds) {
    const f = await start(false);
    full.push({ seconds: f.seconds, cpuSeconds: f.cpuSeconds });
    templates = f.value.r.templates;
    log(
      `full rebuild ${f.seconds.toFixed(1)} s wall, ${f.cpuSeconds.toFixed(1)} s CPU, ${f.value.r.templates} templates`,
    );
    if (!write) {
      const { index, r } = f.value;
      const snapshots = liveIndex({ store, keyring, vault, dataDir, dims: 512 }).snapshots!;
      const w = await timed(() => snapshots.write(index, r.since));
      write = { seconds: w.seconds, cpuSeconds: w.cpuSeconds, segments: w.value?.segments ?? 0 };
      log(`snapshot written: ${write.segments} segments in ${w.seconds.toFixed(1)} s`);
    }
    f.value.index.clear();
  }
  if (round < snapshotRounds) {
    const s = await start(true);
    const { decrypted, segments, ms, check } = s.value.r;
    fromSnapshot.push({ seconds: s.seconds, cpuSeconds: s.cpuSeconds, decrypted, segments, ms, check });
    log(
      `from snapshot ${s.seconds.toFixed(1)} s wall, ${s.cpuSeconds.toFixed(1)} s CPU, check ${check}, decrypted ${decrypted}, ms ${JSON.stringify(ms)}`,
    );
    s.value.index.clear();
  }
  if (round < checkRounds) {
    const c = await start(true, 0);
    const { decrypted, segments, ms, check } = c.value.r;
    fullCheck.push({ seconds: c.seconds, cpuSeconds: c.cpuSeconds, decrypted, segments, ms, check });
    log(`from snapshot, full check ${JSON.stringify(fullCheck[fullCheck.length - 1])}`);
    c.value.index.clear();
  }
}
await store.close();

// The whole instance from the snapshot, then erasures through the lifecycle; the segments they destroy
// are written again from the live index in the background (SegmentRewrites, a second after the first
// erasure, so later erasures run while it writes); its remaining work is flushed and timed. Then the
// same without the rewrite (rewriteDelayMs too long to run before close: as before it existed).
type Erasures = { eraseMs: number[]; duringMs: number[]; stallMs: number[]; rewrites: object[]; flushSeconds: number };
async function eraseSome(round: number, rewrite: boolean): Promise<Erasures> {
  const index = rewrite ? {} : { rewriteDelayMs: 3_600_000 };
  const open = await timed(() => openVeil({ dataDir, engine, env: {}, databaseUrl, index }));
  const v = open.value;
  log(`openVeil from snapshot ${open.seconds.toFixed(1)} s (decrypted ${v.lifecycle.started?.decrypted})`);
  const ids = v.index.templateIds();
  const eraseMs: number[] = [];
  for (let i = 0; i < erasures; i++) {
    const at = Math.floor(((i + 0.5 + round / 3) * ids.length) / erasures) % ids.length;
    const subject = v.index.ownerOf(ids[at]!)!.subjectId as SubjectId;
    const e = await timed(() => v.lifecycle.erase([subject], actors.system('bench'), null));
    eraseMs.push(e.seconds * 1000);
    log(`erasure ${(e.seconds * 1000).toFixed(0)} ms${rewrite ? '' : ' (no rewrite)'}`);
  }
  // Erasures while a rewrite runs: wait for it to start (it records its run when done), then erase
  // people of other ranges, each timed.
  const duringMs: number[] = [];
  // The event loop's longest stall while each of those erasures ran (what a request would wait).
  const stallMs: number[] = [];
  if (rewrite && during) {
    await new Promise((r) => setTimeout(r, 1_200));
    for (let i = 0; i < during; i++) {
      const subject = v.index.ownerOf(ids[Math.floor(((i + 0.25) * ids.length) / during)]!)!.subjectId as SubjectId;
      const loop = monitorEventLoopDelay({ resolution: 5 });
      loop.enable();
      trace.length = 0;
      const e = await timed(() => v.lifecycle.erase([subject], actors.system('bench'), null));
      loop.disable();
      duringMs.push(e.seconds * 1000);
      stallMs.push(loop.max / 1e6);
      log(
        `erasure during the rewrite ${(e.seconds * 1000).toFixed(0)} ms, ${e.cpuSeconds.toFixed(2)} CPU s, longest loop stall ${(loop.max / 1e6).toFixed(0)} ms (runs done: ${v.rewrites?.runs.length})`,
      );
      if (trace.length) log(`  steps ${trace.map(([l, t]) => `${l}@${(t - e.t0).toFixed(0)}`).join(' ')}`);
    }
  }
  const flush = await timed(async () => (rewrite ? v.rewrites?.flush() : undefined));
  const rewrites = [...(v.rewrites?.runs ?? [])];
  log(`rewrites ${JSON.stringify(rewrites)}; flushed in ${flush.seconds.toFixed(1)} s`);
  if (rwTrace.length)
    log(
      `rewrite steps (ms since the previous) ${rwTrace.map(([l, t], i) => `${l}+${(t - (rwTrace[i - 1]?.[1] ?? t)).toFixed(0)}`).join(' ')}`,
    );
  rwTrace.length = 0;
  await v.close();
  return { eraseMs, duringMs, stallMs, rewrites, flushSeconds: flush.seconds };
}

// A start after the erasures: the ranges of the segments they destroyed are read (and decrypted)
// again unless they were written again.
async function startAfter() {
  const store2 = await openStore({ sqlitePath: join(dataDir, 'veil.db'), databaseUrl, migrations: 'none' });
  const { keyring: keyring2 } = await openKeyRing({ store: store2, master, dataDir });
  const vault2 = new TemplateVault({ keyring: keyring2, dataDir, model: MODELS.embedder.id });
  const after = await timed(async () => {
    const { index, snapshots } = liveIndex({ store: store2, keyring: keyring2, vault: vault2, dataDir, dims: 512 });
    const r = await startIndex({ store: store2, vault: vault2, index, snapshots });
    index.clear();
    return r;
  });
  await store2.close();
  const { check, decrypted, segments, ms } = after.value;
  const out = { seconds: after.seconds, cpuSeconds: after.cpuSeconds, check, decrypted, segments, ms };
  log(`from snapshot after the erasures ${JSON.stringify(out)}`);
  return out;
}

const withRewrite = await eraseSome(0, true);
const afterErasures = await startAfter();
// SNAPSHOT_NO_REWRITE=0: the round without the rewrite is skipped.
const again = process.env['SNAPSHOT_NO_REWRITE'] !== '0';
const withoutRewrite = again ? await eraseSome(1, false) : { eraseMs: [0] };
const afterErasuresNoRewrite = again ? await startAfter() : null;
const eraseSeconds = withRewrite.eraseMs.map((x) => x / 1000);

process.stdout.write(
  JSON.stringify({
    date: new Date().toISOString(),
    dataDir,
    engine: databaseUrl ? 'postgres' : 'sqlite',
    templates,
    full,
    fromSnapshot,
    fullCheck,
    write,
    median: {
      fullSeconds: median(full.map((x) => x.seconds)),
      fullCpuSeconds: median(full.map((x) => x.cpuSeconds)),
      snapshotSeconds: median(fromSnapshot.map((x) => x.seconds)),
      snapshotCpuSeconds: median(fromSnapshot.map((x) => x.cpuSeconds)),
      eraseMs: median(eraseSeconds) * 1000,
    },
    maxEraseMs: Math.max(...eraseSeconds) * 1000,
    afterErasures,
    withRewrite,
    withoutRewrite: { ...withoutRewrite, medianEraseMs: median(withoutRewrite.eraseMs) },
    afterErasuresNoRewrite,
  }) + '\n',
);

function randomUnit(): Float32Array {
  const x = new Float32Array(512);
  let s = 0;
  for (let j = 0; j < 512; j++) s += (x[j] = Math.random() - 0.5) ** 2;
  return x.map((y) => y / Math.sqrt(s));
}

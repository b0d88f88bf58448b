// What a commit costs the event loop with SQLite's own WAL checkpoints (VEIL_SQLITE_CHECKPOINT=commit)
// and with the server's background checkpointer (background), issue 17 item 5. Each transaction is
// shaped like an identify's accounting (a search row, its results and an audit row, indexed on random
// keys so each commit dirties several pages); the two modes alternate over ROUNDS rounds on fresh
// files, and the event loop's own delay is sampled meanwhile (a stalled loop delays every request).
//   node --import tsx bench/wal-checkpoint.ts   (WAL_TX=3000 WAL_ROUNDS=2)
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { loadavg } from 'node:os';
import { sql } from 'kysely';
import { openSqliteStore, type SqliteCheckpoint } from '../src/store/store.js';
import { tempDir } from '../support/database.js';
import { median, percentile } from './stats.js';

const TX = Number(process.env['WAL_TX'] ?? 3000);
const ROUNDS = Number(process.env['WAL_ROUNDS'] ?? 2);

async function round(mode: SqliteCheckpoint) {
  const dir = tempDir('veil-wal-bench-');
  const store = await openSqliteStore(join(dir, 'veil.db'), 'apply', mode);
  for (const t of ['a', 'b', 'c']) {
    await sql.raw(`create table bench_${t} (k blob, j blob, body blob)`).execute(store.db);
    await sql.raw(`create index bench_${t}_k on bench_${t}(k)`).execute(store.db);
    await sql.raw(`create index bench_${t}_j on bench_${t}(j)`).execute(store.db);
  }
  const ms: number[] = [];
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < TX; i++) {
    const s = performance.now();
    await store.transaction(async (tx) => {
      for (const t of ['a', 'b', 'c'])
        await sql
          .raw(`insert into bench_${t} (k, j, body) values (randomblob(16), randomblob(16), randomblob(400))`)
          .execute(tx);
    });
    ms.push(performance.now() - s);
    // Paced a little, as requests are: the background checkpointer gets its turn.
    if (i % 30 === 29) await new Promise((r) => setTimeout(r, 5));
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    mode,
    p50: median(ms),
    p99: percentile(ms, 99),
    max: Math.max(...ms),
    over5ms: ms.filter((x) => x > 5).length,
    over10ms: ms.filter((x) => x > 10).length,
    loopDelayP99: loop.percentile(99) / 1e6,
    loopDelayMax: loop.max / 1e6,
    wallSeconds: wall,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
  };
}

const out = [];
for (let r = 0; r < ROUNDS; r++)
  for (const m of (r % 2 ? ['background', 'commit'] : ['commit', 'background']) as SqliteCheckpoint[]) {
    const x = await round(m);
    out.push(x);
    process.stderr.write(
      `${m}: ${TX} commits p50 / p99 / max ${x.p50.toFixed(2)} / ${x.p99.toFixed(2)} / ${x.max.toFixed(1)} ms, >5 ms ${x.over5ms}, >10 ms ${x.over10ms}; event loop delay p99 / max ${x.loopDelayP99.toFixed(1)} / ${x.loopDelayMax.toFixed(1)} ms; ${x.cpuSeconds.toFixed(1)} s CPU in ${x.wallSeconds.toFixed(1)} s; load ${loadavg()[0]!.toFixed(2)}\n`,
    );
  }
process.stdout.write(JSON.stringify({ tx: TX, rounds: out, loadAverageAtEnd: loadavg() }) + '\n');

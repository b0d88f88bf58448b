import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';

/**
 * SQLite's WAL checkpoints off the event loop (VEIL_SQLITE_CHECKPOINT=background; opt-in: the default
 * stays SQLite's own, 'commit', until a quiet-machine run shows this cuts the tail, docs/benchmarks.md).
 *
 * Why: better-sqlite3 is synchronous, and by default the connection that commits the transaction
 * taking the WAL past 1,000 pages runs the checkpoint inside that commit: it copies the pages into
 * the database file and fsyncs it (two syncs of several ms each on a VM disk), on the main thread,
 * while every other request in flight waits; at 30 identifies a second (each writes a search record
 * and an audit entry) that is every few seconds (issue 17 item 5). Measured on a loaded, shared disk,
 * moving it to a worker did not cut slow commits: its fsyncs of the WAL and the database file contend
 * with the main thread's WAL writes, and most slow commits were not checkpoints.
 *
 * Here a worker thread holds its own connection and runs a PASSIVE checkpoint every `intervalMs`:
 * it never takes the write lock, so commits go on meanwhile, and the fsyncs happen on its thread.
 * Durability is unchanged: a commit is in the WAL before it returns, exactly as before (the WAL
 * sync policy is the connection's `synchronous`, not the checkpoint's); only who copies the WAL into
 * the database file, and when, changes. The main connection keeps a far higher auto-checkpoint
 * (`backstopPages`) so the WAL stays bounded should this worker stop or fall behind.
 */
export interface WalCheckpointer {
  /** Checkpoint passes that copied at least one page (for tests and the bench). */
  readonly passes: () => number;
  /** Stops the worker and closes its connection (before the main connection closes). */
  close(): Promise<void>;
}

export const BACKSTOP_PAGES = 16_000;

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const Sqlite = require(workerData.module);
const db = new Sqlite(workerData.path, { fileMustExist: true });
db.pragma('busy_timeout = 0');
db.pragma('synchronous = NORMAL');
const pass = () => {
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    if (r && r.checkpointed > 0) parentPort.postMessage({ checkpointed: r.checkpointed });
  } catch (e) {
    // SQLITE_BUSY and the like: the next pass tries again; the main connection's backstop bounds the WAL.
  }
};
const timer = setInterval(pass, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export function startWalCheckpointer(path: string, intervalMs = 200): WalCheckpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER, { eval: true, workerData: { path, module, intervalMs } });
  let passes = 0;
  let exited = false;
  worker.on('message', () => void passes++);
  // A failed worker leaves the backstop in charge; it must not take the process down.
  worker.on('error', () => undefined);
  const done = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  void done.then(() => (exited = true));
  worker.unref();
  return {
    passes: () => passes,
    async close() {
      if (exited) return;
      worker.postMessage('stop');
      const t = setTimeout(() => void worker.terminate(), 2_000);
      await done;
      clearTimeout(t);
    },
  };
}

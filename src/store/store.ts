import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
import { migrate, migrationStatus } from './migrator.js';
import { VeilError } from '../errors.js';
import { openSqlite, SQLITE_BUSY_WAIT_MS } from './sqlite.js';
import { openPostgres } from './postgres.js';
import type { Database } from './schema.js';
import { currentTiming } from '../request-timing.js';
import { BACKSTOP_PAGES, startWalCheckpointer } from './wal-checkpointer.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Repositories accept either: inside a service transaction or standalone reads. */
export type Executor = Db | Tx;

/** The system of record: one Kysely instance over SQLite (embedded) or PostgreSQL (server). */
export interface Store {
  readonly db: Db;
  readonly engine: 'sqlite' | 'postgres';
  /** Runs fn in one transaction: every change and its audit entry commit together or not at all. */
  transaction<T>(fn: (tx: Tx) => Promise<T>): Promise<T>;
  /**
   * Serialises audit appends across connections and processes, inside the caller's transaction.
   * SQLite needs nothing (BEGIN IMMEDIATE already holds the one write lock); PostgreSQL takes an
   * advisory transaction lock, so "read the last seq, append" never races.
   */
  serializeAudit(tx: Tx): Promise<void>;
  /** Wakes other processes that follow the index change feed (no-op for the embedded engine). */
  notifyIndexChange(tx: Tx): Promise<void>;
  /** Calls back on every change-feed notification from any process; returns an unsubscribe. */
  listenIndexChanges(onChange: () => void): Promise<() => Promise<void>>;
  /**
   * Called once erasures are done, so what they deleted leaves the files too. SQLite (secure_delete
   * on) has zeroed the deleted content in its pages; the WAL still holds the earlier page versions, so
   * it is checkpointed and truncated to nothing. A reader in another process can keep part of the WAL
   * alive until the next checkpoint. PostgreSQL: nothing can be done from here (dead row versions
   * and WAL segments are the server's); keys are not in the database, so what stays there is sealed
   * under keys that no longer exist (docs/security.md).
   */
  scrub(): Promise<void>;
  close(): Promise<void>;
}

/**
 * What opening does to the schema: `apply` runs pending migrations (the embedded default),
 * `require` refuses to start on an outdated schema (servers deployed with `veil migrate` as a
 * separate step, VEIL_AUTO_MIGRATE=false), `none` only connects (`veil db check`, `veil migrate --status`).
 */
export type MigrationMode = 'apply' | 'require' | 'none';

async function requireCurrent(db: Db): Promise<void> {
  const s = await migrationStatus(db);
  if (s.pending.length) {
    throw new VeilError(
      'SCHEMA_OUTDATED',
      `The database schema is behind this Veil (pending migrations ${s.pending.map((m) => m.version).join(', ')}); run 'veil migrate' first.`,
    );
  }
}

/**
 * Two processes starting at once are serialised by Kysely's migration lock inside migrate(). A
 * refusal or a failed migration closes the connection, so the caller is not left with an open pool.
 */
async function prepareSchema(db: Db, mode: MigrationMode): Promise<void> {
  try {
    if (mode === 'apply') await migrate(db);
    else if (mode === 'require') await requireCurrent(db);
  } catch (e) {
    await db.destroy().catch(() => undefined);
    throw e;
  }
}

/**
 * Transactions; with request timing on (request-timing.ts), the wait to begin one (the connection, the
 * write lock) and its commit are stages of the request (`db-begin`, `db-commit`).
 */
function transactionOf(db: Db): Store['transaction'] {
  return (fn) => {
    const t = currentTiming();
    if (!t) return db.transaction().execute(fn);
    const asked = performance.now();
    let ended = asked;
    return db
      .transaction()
      .execute(async (tx) => {
        t.add('db-begin', performance.now() - asked);
        try {
          return await fn(tx);
        } finally {
          ended = performance.now();
        }
      })
      .finally(() => t.add('db-commit', performance.now() - ended));
  };
}

/** Who checkpoints SQLite's WAL: the committing connection (SQLite's default) or a worker thread (wal-checkpointer.ts). */
export type SqliteCheckpoint = 'commit' | 'background';

export async function openSqliteStore(
  path: string,
  mode: MigrationMode = 'apply',
  checkpoint: SqliteCheckpoint = 'commit',
): Promise<Store> {
  const { db, raw } = openSqlite(path);
  await prepareSchema(db, mode);
  const worker = checkpoint === 'background' && path !== ':memory:' ? startWalCheckpointer(path) : null;
  if (worker) raw.pragma(`wal_autocheckpoint = ${BACKSTOP_PAGES}`);
  return {
    db,
    engine: 'sqlite',
    transaction: transactionOf(db),
    serializeAudit: async () => undefined,
    notifyIndexChange: async () => undefined,
    listenIndexChanges: async () => async () => undefined,
    scrub: () => truncateWal(db),
    close: async () => {
      await worker?.close();
      await db.destroy();
    },
  };
}

/**
 * `wal_checkpoint(TRUNCATE)` waits for other processes' readers in SQLite's busy handler, inside a
 * synchronous call that would freeze this process's event loop, so it is asked for without waiting
 * and retried asynchronously for a while. If readers never let go, the WAL is truncated by a later
 * checkpoint (docs/security.md); nothing fails for it.
 */
async function truncateWal(db: Db): Promise<void> {
  for (let attempt = 0, delay = 5; attempt < 12; attempt++, delay = Math.min(delay * 2, 250)) {
    const done = await db.connection().execute(async (c) => {
      await sql`pragma busy_timeout = 0`.execute(c);
      try {
        const r = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(c);
        return Number(r.rows[0]?.busy ?? 0) === 0;
      } catch (e) {
        if ((e as { code?: string }).code === 'SQLITE_BUSY') return false;
        throw e;
      } finally {
        await sql.raw(`pragma busy_timeout = ${SQLITE_BUSY_WAIT_MS}`).execute(c);
      }
    });
    if (done) return;
    await new Promise((r) => setTimeout(r, delay));
  }
}

const AUDIT_LOCK = 7_355_608;
const CHANNEL = 'veil_index_changes';

export async function openPostgresStore(url: string, mode: MigrationMode = 'apply'): Promise<Store> {
  const { db } = openPostgres(url);
  await prepareSchema(db, mode);
  const locked = new WeakSet<object>();
  return {
    db,
    engine: 'postgres',
    transaction: transactionOf(db),
    async serializeAudit(tx) {
      // Held until the transaction ends: once per transaction is enough.
      if (locked.has(tx)) return;
      await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(tx);
      locked.add(tx);
    },
    notifyIndexChange: async (tx) => void (await sql`select pg_notify(${CHANNEL}, '')`.execute(tx)),
    async listenIndexChanges(onChange) {
      let client: pg.Client | null = null;
      let stopped = false;
      let retry: NodeJS.Timeout | null = null;
      // A lost LISTEN connection (server restart, terminated backend) is re-opened with backoff,
      // and the caller re-reads the feed once it is back; the poll covers the gap meanwhile.
      const connect = async (delayMs: number): Promise<void> => {
        if (stopped) return;
        const c = new pg.Client({ connectionString: url });
        let lost = false;
        const onLost = () => {
          if (lost) return;
          lost = true;
          // A connection that was up retries quickly; repeated failures back off up to 5 s.
          const wasUp = client === c;
          if (wasUp) client = null;
          if (!stopped)
            retry = setTimeout(() => void connect(wasUp ? 250 : Math.min(delayMs * 2, 5_000)), wasUp ? 250 : delayMs);
        };
        c.on('notification', () => onChange());
        c.on('error', onLost);
        c.on('end', onLost);
        try {
          await c.connect();
          await c.query(`LISTEN ${CHANNEL}`);
        } catch {
          onLost();
          return;
        }
        if (stopped) return void (await c.end().catch(() => undefined));
        client = c;
        onChange();
      };
      await connect(250);
      return async () => {
        stopped = true;
        if (retry) clearTimeout(retry);
        const c = client;
        client = null;
        // end() on a connection the server already dropped may never settle: do not wait on it forever.
        if (c) await Promise.race([c.end().catch(() => undefined), new Promise((r) => setTimeout(r, 1000).unref())]);
      };
    },
    scrub: async () => undefined,
    close: () => db.destroy(),
  };
}

/** DATABASE_URL (postgres://...) selects the server engine; otherwise the embedded SQLite file. */
export function openStore(opts: {
  databaseUrl?: string | undefined;
  sqlitePath: string;
  migrations?: MigrationMode;
  sqliteCheckpoint?: SqliteCheckpoint | undefined;
}): Promise<Store> {
  return opts.databaseUrl
    ? openPostgresStore(opts.databaseUrl, opts.migrations)
    : openSqliteStore(opts.sqlitePath, opts.migrations, opts.sqliteCheckpoint);
}

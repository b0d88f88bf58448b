import { sql, type Kysely, type Transaction } from 'kysely';
import pg from 'pg';
import { migrate } from './migrations.js';
import { openSqlite } from './sqlite.js';
import { openPostgres } from './postgres.js';
import type { Database } from './schema.js';

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
  close(): Promise<void>;
}

export async function openSqliteStore(path: string): Promise<Store> {
  const { db } = openSqlite(path);
  await migrate(db, 'sqlite');
  return {
    db,
    engine: 'sqlite',
    transaction: (fn) => db.transaction().execute(fn),
    serializeAudit: async () => undefined,
    notifyIndexChange: async () => undefined,
    listenIndexChanges: async () => async () => undefined,
    close: () => db.destroy(),
  };
}

const AUDIT_LOCK = 7_355_608;
const CHANNEL = 'veil_index_changes';

export async function openPostgresStore(url: string): Promise<Store> {
  const { db } = openPostgres(url);
  // Two processes starting at once must not both run the migrations.
  await db.connection().execute(async (c) => {
    await sql`select pg_advisory_lock(${AUDIT_LOCK + 1})`.execute(c);
    try {
      await migrate(c as unknown as Db, 'postgres');
    } finally {
      await sql`select pg_advisory_unlock(${AUDIT_LOCK + 1})`.execute(c);
    }
  });
  return {
    db,
    engine: 'postgres',
    transaction: (fn) => db.transaction().execute(fn),
    serializeAudit: async (tx) => void (await sql`select pg_advisory_xact_lock(${AUDIT_LOCK})`.execute(tx)),
    notifyIndexChange: async (tx) => void (await sql`select pg_notify(${CHANNEL}, '')`.execute(tx)),
    async listenIndexChanges(onChange) {
      let client: pg.Client | null = null;
      let stopped = false;
      const connect = async (): Promise<void> => {
        if (stopped) return;
        const c = new pg.Client({ connectionString: url });
        c.on('notification', () => onChange());
        // On a lost connection, reconnect and catch up (the caller re-reads the feed on every call).
        c.on('error', () => setTimeout(() => void connect().then(onChange, () => undefined), 500));
        await c.connect();
        await c.query(`LISTEN ${CHANNEL}`);
        client = c;
      };
      await connect();
      return async () => {
        stopped = true;
        await client?.end().catch(() => undefined);
      };
    },
    close: () => db.destroy(),
  };
}

/** DATABASE_URL (postgres://...) selects the server engine; otherwise the embedded SQLite file. */
export function openStore(opts: { databaseUrl?: string | undefined; sqlitePath: string }): Promise<Store> {
  return opts.databaseUrl ? openPostgresStore(opts.databaseUrl) : openSqliteStore(opts.sqlitePath);
}

import type { Kysely, Transaction } from 'kysely';
import { migrate } from './migrations.js';
import { openSqlite } from './sqlite.js';
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
  close(): Promise<void>;
}

export async function openSqliteStore(path: string): Promise<Store> {
  const { db } = openSqlite(path);
  await migrate(db, 'sqlite');
  return {
    db,
    engine: 'sqlite',
    transaction: (fn) => db.transaction().execute(fn),
    close: () => db.destroy(),
  };
}

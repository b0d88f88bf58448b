import Sqlite from 'better-sqlite3';
import { CompiledQuery, Kysely, SqliteAdapter, SqliteDialect, SqliteDriver, type DatabaseConnection } from 'kysely';
import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Database } from './schema.js';
import { VeilError } from '../errors.js';

/**
 * SQLite's default deferred BEGIN lets two writers both read, then fail to upgrade their locks.
 * BEGIN IMMEDIATE takes the write lock up front, so the audit log's "read last seq, append"
 * never races another process.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  /**
   * Another process (a second API process, a CLI command) may hold the write lock. SQLite's own
   * busy handler would wait inside the synchronous call and freeze this process's event loop, so
   * the lock is asked for without waiting and retried asynchronously: requests that only read keep
   * being served meanwhile.
   */
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const deadline = Date.now() + BUSY_WAIT_MS;
    await connection.executeQuery(CompiledQuery.raw('pragma busy_timeout = 0'));
    try {
      for (let delay = 1; ; delay = Math.min(delay * 2, 8)) {
        try {
          await connection.executeQuery(CompiledQuery.raw('begin immediate'));
          return;
        } catch (e) {
          if ((e as { code?: string }).code !== 'SQLITE_BUSY' || Date.now() > deadline) throw e;
          await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random())));
        }
      }
    } finally {
      await connection.executeQuery(CompiledQuery.raw(`pragma busy_timeout = ${BUSY_WAIT_MS}`));
    }
  }
}

const BUSY_WAIT_MS = 10_000;
export const SQLITE_BUSY_WAIT_MS = BUSY_WAIT_MS;

/**
 * Kysely's SQLite adapter says DDL is not transactional, so its Migrator would run migrations
 * outside any transaction with a no-op lock: two processes opening one file would both create the
 * tables, and a failure would leave half a migration behind. SQLite's DDL is transactional, and
 * the migration transaction's BEGIN IMMEDIATE holds the file's one write lock until it commits, so
 * it is the cross-process migration lock: the second process reads what ran only after the first
 * committed. (A future migration that must toggle `pragma foreign_keys` cannot run inside it.)
 */
class ImmediateSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  constructor(private readonly cfg: ConstructorParameters<typeof SqliteDialect>[0]) {
    super(cfg);
  }
  override createDriver() {
    return new ImmediateSqliteDriver(this.cfg);
  }
  override createAdapter() {
    return new ImmediateSqliteAdapter();
  }
}

/**
 * The database file is made 0600 in a 0700 directory before SQLite opens it: SQLite creates -wal and
 * -shm with the database file's mode, so they follow. A file left group- or world-readable by an
 * older build is narrowed the same way.
 */
function privateFile(path: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  closeSync(openSync(path, 'a', 0o600));
  const mode = statSync(path).mode & 0o777;
  if (mode & 0o077) chmodSync(path, mode & 0o700);
}

export function openSqlite(path: string): { db: Kysely<Database>; raw: Sqlite.Database } {
  if (path !== ':memory:') privateFile(path);
  const raw = new Sqlite(path);
  raw.pragma('journal_mode = WAL');
  // Deleted rows and freed pages are overwritten with zeros, not left in the file for a scan to find.
  raw.pragma('secure_delete = ON');
  raw.pragma('foreign_keys = ON');
  raw.pragma(`busy_timeout = ${BUSY_WAIT_MS}`);
  raw.pragma('synchronous = NORMAL');
  const db = new Kysely<Database>({ dialect: new ImmediateSqliteDialect({ database: raw }) });
  return { db, raw };
}

/**
 * Refuses when any other connection has the database open (an API server, a CLI command), even idle:
 * an exclusive lock is asked for without waiting. For the operations that replace the file.
 */
export function assertSqliteUnused(path: string): void {
  const raw = new Sqlite(path, { fileMustExist: true, timeout: 0 });
  try {
    raw.pragma('locking_mode = EXCLUSIVE');
    raw.exec('begin exclusive');
    raw.exec('commit');
  } catch (e) {
    if ((e as { code?: string }).code === 'SQLITE_BUSY')
      throw new VeilError('INVALID_STATE', `${path} is in use by another process: stop every Veil process first.`);
    throw e;
  } finally {
    raw.close();
  }
}

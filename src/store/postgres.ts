import pg from 'pg';
import { Kysely, PostgresDialect, sql } from 'kysely';
import type { Database } from './schema.js';

// bigint and count(*) come back as strings by default; every id/seq here stays below 2^53.
pg.types.setTypeParser(20, (v) => Number(v));

export function openPostgres(url: string, max = 10): { db: Kysely<Database>; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max, idleTimeoutMillis: 30_000 });
  // A dropped connection (database restart, network) must not crash the process; the pool reconnects.
  pool.on('error', () => undefined);
  // A connection terminated while checked out between statements (mid-transaction) emits 'error'
  // with no pool listener attached, which would crash the process; its next query fails instead,
  // the transaction rolls back and the pool discards the client.
  pool.on('connect', (client) => void client.on('error', () => undefined));
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, pool };
}

export { sql };

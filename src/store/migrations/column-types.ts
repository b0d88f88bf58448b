import { PostgresAdapter, type Kysely } from 'kysely';

/** The few column types the two engines spell differently. */
export interface ColumnTypes {
  readonly bytes: 'blob' | 'bytea';
  readonly float: 'real' | 'double precision';
  /** An auto-incrementing integer key (the index change feed's cursor). */
  readonly serial: 'integer' | 'bigserial';
}

const POSTGRES: ColumnTypes = { bytes: 'bytea', float: 'double precision', serial: 'bigserial' };
const SQLITE: ColumnTypes = { bytes: 'blob', float: 'real', serial: 'integer' };

/**
 * Kysely's Migrator hands a migration only the database (a transaction), not our engine name, so
 * the engine is read from the connection's dialect adapter: migrations name a type once and stay
 * free of engine branches. Every non-PostgreSQL adapter here is SQLite's.
 */
export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  return db.getExecutor().adapter instanceof PostgresAdapter ? POSTGRES : SQLITE;
}

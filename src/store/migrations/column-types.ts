import { PostgresAdapter, type ColumnDefinitionBuilder, type Kysely } from 'kysely';

/** The few column types the two engines spell differently. */
export interface ColumnTypes {
  readonly bytes: 'blob' | 'bytea';
  readonly float: 'real' | 'double precision';
  /** An auto-incrementing integer key (the index change feed's cursor). */
  readonly serial: 'integer' | 'bigserial';
  /**
   * Makes a `serial` column the primary key whose values are never handed out again, even after the
   * highest row is deleted: SQLite needs AUTOINCREMENT for that (a plain integer key reuses max + 1);
   * a PostgreSQL sequence never goes back.
   */
  readonly neverReusedKey: (c: ColumnDefinitionBuilder) => ColumnDefinitionBuilder;
}

const POSTGRES: ColumnTypes = {
  bytes: 'bytea',
  float: 'double precision',
  serial: 'bigserial',
  neverReusedKey: (c) => c.primaryKey(),
};
const SQLITE: ColumnTypes = {
  bytes: 'blob',
  float: 'real',
  serial: 'integer',
  neverReusedKey: (c) => c.primaryKey().autoIncrement(),
};

/**
 * Kysely's Migrator hands a migration only the database (a transaction), not our engine name, so
 * the engine is read from the connection's dialect adapter: migrations name a type once and stay
 * free of engine branches. Every non-PostgreSQL adapter here is SQLite's.
 */
export function columnTypes(db: Kysely<unknown>): ColumnTypes {
  return db.getExecutor().adapter instanceof PostgresAdapter ? POSTGRES : SQLITE;
}

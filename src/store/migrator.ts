import {
  DEFAULT_MIGRATION_LOCK_TABLE,
  DEFAULT_MIGRATION_TABLE,
  MIGRATION_LOCK_ID,
  Migrator,
  type Kysely,
  type MigrationLockOptions,
} from 'kysely';
import { MIGRATIONS, migrationProvider, versionOf } from './migrations/index.js';
import type { Database } from './schema.js';

/**
 * Schema migrations run through Kysely's Migrator, one file per migration (src/store/migrations/).
 *
 * Databases created before the Migrator recorded versions 1-7 in `veil_migrations`. The bridge
 * copies those rows into `kysely_migration` once, so the Migrator treats them as executed and runs
 * only what came after. `veil_migrations` is kept and never written again: a rollback to a build
 * from before the Migrator still finds its record and starts, and dropping it would gain nothing
 * but a migration that such a build could not undo.
 */

export interface MigrationStatus {
  readonly applied: readonly { version: number; name: string; appliedAt: string }[];
  readonly pending: readonly { version: number; name: string }[];
  /** Versions recorded in the database that this build does not know: a newer Veil migrated it. */
  readonly unknown: readonly number[];
  readonly latest: number;
}

const NAMES = Object.keys(MIGRATIONS).sort();
const LEGACY_TABLE = 'veil_migrations';
const LOCK: MigrationLockOptions = { lockTable: DEFAULT_MIGRATION_LOCK_TABLE, lockRowId: MIGRATION_LOCK_ID };

async function tableNames(db: Kysely<Database>): Promise<Set<string>> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  return new Set(tables.map((t) => t.name));
}

/**
 * What has been applied and what would run, without changing anything. A database not bridged yet
 * counts its `veil_migrations` rows as applied, so `require` mode and `veil migrate --status` see
 * an up-to-date pre-Migrator database as current.
 */
export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus> {
  const tables = await tableNames(db);
  const recorded = new Map<number, { name: string; appliedAt: string }>();
  if (tables.has(LEGACY_TABLE))
    for (const r of await db.selectFrom('veil_migrations').selectAll().execute()) {
      const version = Number(r.version);
      recorded.set(version, { name: NAMES.find((n) => versionOf(n) === version) ?? r.name, appliedAt: r.applied_at });
    }
  if (tables.has(DEFAULT_MIGRATION_TABLE))
    for (const r of await db.selectFrom('kysely_migration').select(['name', 'timestamp']).execute()) {
      const version = versionOf(r.name);
      if (Number.isInteger(version)) recorded.set(version, { name: r.name, appliedAt: r.timestamp });
    }
  const known = new Set(NAMES.map(versionOf));
  return {
    applied: [...recorded]
      .sort(([a], [b]) => a - b)
      .map(([version, r]) => ({ version, name: r.name, appliedAt: r.appliedAt })),
    pending: NAMES.filter((n) => !recorded.has(versionOf(n))).map((name) => ({ version: versionOf(name), name })),
    unknown: [...recorded.keys()].filter((v) => !known.has(v)).sort((a, b) => a - b),
    latest: Math.max(...NAMES.map(versionOf)),
  };
}

/** Legacy rows whose migration `kysely_migration` does not hold yet, oldest first. */
async function unbridged(db: Kysely<Database>, hasKyselyTable: boolean) {
  const legacy = await db.selectFrom('veil_migrations').selectAll().orderBy('version').execute();
  const have = new Set(
    hasKyselyTable ? (await db.selectFrom('kysely_migration').select('name').execute()).map((r) => r.name) : [],
  );
  return legacy.flatMap((r) => {
    const name = NAMES.find((n) => versionOf(n) === Number(r.version));
    return name && !have.has(name) ? [{ name, appliedAt: r.applied_at }] : [];
  });
}

/**
 * Copies `veil_migrations` into `kysely_migration` (same name and column types Kysely creates)
 * under Kysely's own migration lock, in one transaction: two processes starting at once on
 * PostgreSQL serialise on the Migrator's advisory lock, and on SQLite the transaction's immediate
 * write lock does the same. The second one finds nothing left to copy. Returns the versions copied.
 */
export async function bridgeLegacyMigrations(db: Kysely<Database>): Promise<number[]> {
  const tables = await tableNames(db);
  // The common case (nothing to copy) takes no lock and writes nothing.
  if (!tables.has(LEGACY_TABLE) || !(await unbridged(db, tables.has(DEFAULT_MIGRATION_TABLE))).length) return [];
  const adapter = db.getExecutor().adapter;
  return db.connection().execute(async (conn) => {
    await adapter.acquireMigrationLock(conn, LOCK);
    try {
      return await conn.transaction().execute(async (tx) => {
        await tx.schema
          .createTable(DEFAULT_MIGRATION_TABLE)
          .ifNotExists()
          .addColumn('name', 'varchar(255)', (c) => c.notNull().primaryKey())
          .addColumn('timestamp', 'varchar(255)', (c) => c.notNull())
          .execute();
        const rows = await unbridged(tx, true);
        // The Migrator orders executed migrations by timestamp and refuses a history out of name
        // order; applied_at from hosts with skewed clocks could be, so a timestamp never goes back.
        let last = 0;
        for (const r of rows) {
          last = Math.max(last, Date.parse(r.appliedAt) || 0);
          await tx
            .insertInto('kysely_migration')
            .values({ name: r.name, timestamp: new Date(last).toISOString() })
            .execute();
        }
        return rows.map((r) => versionOf(r.name));
      });
    } finally {
      await adapter.releaseMigrationLock(conn, LOCK);
    }
  });
}

/**
 * Brings the schema up to this build; returns the versions it ran. Safe to call from several
 * processes at once: the bridge and the Migrator each take Kysely's migration lock, and the
 * Migrator re-reads what has run once it holds it.
 */
export async function migrate(db: Kysely<Database>): Promise<number[]> {
  await bridgeLegacyMigrations(db);
  // Nothing pending: the Migrator is not asked, so a build older than the schema (a rolling deploy,
  // where the Migrator would call the newer history "corrupted") starts as it did before.
  if (!(await migrationStatus(db)).pending.length) return [];
  const { error, results } = await new Migrator({ db, provider: migrationProvider }).migrateToLatest();
  if (error) throw error;
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => versionOf(r.migrationName));
}

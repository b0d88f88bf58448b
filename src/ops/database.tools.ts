import { sqlitePath, type Settings } from '../config/settings.js';
import { openStore } from '../store/store.js';
import { migrationStatus, type MigrationStatus } from '../store/migrator.js';
import { checkDatabase, type Check } from './db-check.js';

/**
 * The database as a deploy sees it: the schema's migrations and the consistency checks, for
 * `veil migrate` and `veil db check`. Each opens its own connection without touching the schema.
 */
export const databaseTools = {
  async status(settings: Settings): Promise<MigrationStatus & { engine: 'sqlite' | 'postgres' }> {
    const store = await openStore({
      databaseUrl: settings.databaseUrl,
      sqlitePath: sqlitePath(settings),
      migrations: 'none',
    });
    try {
      return { ...(await migrationStatus(store.db)), engine: store.engine };
    } finally {
      await store.close();
    }
  },

  /** Applies what is pending, by the same path servers take on start (safe while they start). */
  async migrate(settings: Settings): Promise<{ ran: { version: number; name: string }[]; latest: number }> {
    const before = await databaseTools.status(settings);
    const store = await openStore({
      databaseUrl: settings.databaseUrl,
      sqlitePath: sqlitePath(settings),
      migrations: 'apply',
    });
    try {
      const now = await migrationStatus(store.db);
      return {
        ran: before.pending.filter((p) => !now.pending.some((q) => q.version === p.version)),
        latest: now.latest,
      };
    } finally {
      await store.close();
    }
  },

  async check(settings: Settings, repair: boolean): Promise<Check[]> {
    const store = await openStore({
      databaseUrl: settings.databaseUrl,
      sqlitePath: sqlitePath(settings),
      migrations: 'none',
    });
    try {
      return await checkDatabase({
        store,
        dataDir: settings.dataDir,
        settings,
        databaseUrl: settings.databaseUrl,
        repair,
      });
    } finally {
      await store.close();
    }
  },
};

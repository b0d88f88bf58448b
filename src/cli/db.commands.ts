import { loadConfig } from '../config.js';
import { openStore } from '../store/store.js';
import { migrationStatus } from '../store/migrator.js';
import { parseCommand } from './args.js';
import { UsageError, type Io } from './output.js';

const MIGRATE_USAGE =
  "usage: veil migrate [--status] [--json]\nApplies pending schema migrations to DATABASE_URL (or the data directory's SQLite file); --status only lists them.";
const DB_USAGE =
  'usage: veil db check [--repair] [--json]\nChecks connection, schema, audit log, keys, erased subjects, stored files and the index change feed; exit 1 on any failure.';

/** `veil migrate`: the deploy step that brings the schema up to this build before servers start. */
export async function migrateCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values } = parseCommand(argv, { status: { type: 'boolean' }, json: { type: 'boolean' } }, MIGRATE_USAGE);
  if (values.help) return (io.out(MIGRATE_USAGE + '\n'), 0);
  const config = loadConfig(env);
  const store = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, migrations: 'none' });
  try {
    const before = await migrationStatus(store.db);
    if (values.status) {
      const at = before.applied.length ? Math.max(...before.applied.map((a) => a.version)) : 0;
      io.out(
        values.json
          ? JSON.stringify(before) + '\n'
          : [
              `schema at version ${at} of ${before.latest} (${store.engine})`,
              ...before.pending.map((p) => `pending ${p.version}: ${p.name}`),
            ].join('\n') + '\n',
      );
      return 0;
    }
    // The same path servers take on start (advisory-locked on PostgreSQL), so running it while they start is safe.
    await store.close();
    const after = await openStore({
      databaseUrl: config.databaseUrl,
      sqlitePath: config.sqlitePath,
      migrations: 'apply',
    });
    const now = await migrationStatus(after.db);
    await after.close();
    const ran = before.pending.filter((p) => !now.pending.some((q) => q.version === p.version));
    io.out(
      values.json
        ? JSON.stringify({ applied: ran, latest: now.latest }) + '\n'
        : ran.length
          ? ran.map((m) => `applied ${m.version}: ${m.name}`).join('\n') + `\nschema at version ${now.latest}\n`
          : `schema already at version ${now.latest}; nothing to do\n`,
    );
    return 0;
  } finally {
    await store.close().catch(() => undefined);
  }
}

export async function dbCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseCommand(rest, { repair: { type: 'boolean' }, json: { type: 'boolean' } }, DB_USAGE);
  if (values.help || sub === '--help' || sub === '-h') return (io.out(DB_USAGE + '\n'), 0);
  if (sub !== 'check') throw new UsageError(DB_USAGE);
  const config = loadConfig(env);
  const { checkDatabase } = await import('../ops/db-check.js');
  const store = await openStore({ databaseUrl: config.databaseUrl, sqlitePath: config.sqlitePath, migrations: 'none' });
  try {
    const checks = await checkDatabase({
      store,
      dataDir: config.dataDir,
      env,
      databaseUrl: config.databaseUrl,
      repair: Boolean(values.repair),
    });
    const failed = checks.some((c) => c.status === 'fail');
    if (values.json) io.out(JSON.stringify({ ok: !failed, checks }) + '\n');
    else {
      const w = Math.max(...checks.map((c) => c.name.length));
      io.out(
        checks.map((c) => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(w)}  ${c.detail}`).join('\n') + '\n',
      );
    }
    return failed ? 1 : 0;
  } finally {
    await store.close();
  }
}

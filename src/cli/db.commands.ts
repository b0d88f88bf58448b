import { loadSettings } from '../config/settings.js';
import { databaseTools } from '../ops/database.tools.js';
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
  const settings = loadSettings(env);
  if (values.status) {
    const s = await databaseTools.status(settings);
    const at = s.applied.length ? Math.max(...s.applied.map((a) => a.version)) : 0;
    const human = [
      `schema at version ${at} of ${s.latest} (${s.engine})`,
      ...s.pending.map((p) => `pending ${p.version}: ${p.name}`),
    ];
    io.out(values.json ? JSON.stringify(s) + '\n' : human.join('\n') + '\n');
    return 0;
  }
  const { ran, latest } = await databaseTools.migrate(settings);
  io.out(
    values.json
      ? JSON.stringify({ applied: ran, latest }) + '\n'
      : ran.length
        ? ran.map((m) => `applied ${m.version}: ${m.name}`).join('\n') + `\nschema at version ${latest}\n`
        : `schema already at version ${latest}; nothing to do\n`,
  );
  return 0;
}

export async function dbCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  const { values } = parseCommand(rest, { repair: { type: 'boolean' }, json: { type: 'boolean' } }, DB_USAGE);
  if (values.help || sub === '--help' || sub === '-h') return (io.out(DB_USAGE + '\n'), 0);
  if (sub !== 'check') throw new UsageError(DB_USAGE);
  const checks = await databaseTools.check(loadSettings(env), Boolean(values.repair));
  const failed = checks.some((c) => c.status === 'fail');
  if (values.json) io.out(JSON.stringify({ ok: !failed, checks }) + '\n');
  else {
    const w = Math.max(...checks.map((c) => c.name.length));
    io.out(
      checks.map((c) => `${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(w)}  ${c.detail}`).join('\n') + '\n',
    );
  }
  return failed ? 1 : 0;
}

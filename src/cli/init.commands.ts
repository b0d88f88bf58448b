import { loadSettings } from '../config/settings.js';
import type { StartupNotice } from '../app/veil.js';
import { parseCommand } from './args.js';
import { dataDirExists, noticeLine, openLocalServices } from './context.js';
import { usageOf } from './help.js';
import { UsageError, type Io } from './output.js';

/** `veil init`: the one command besides `veil serve` that creates a data directory. */
export async function initCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, positionals } = parseCommand(argv, { json: { type: 'boolean' } }, usageOf('init'));
  if (positionals.length) throw new UsageError(usageOf('init'));
  const settings = loadSettings(env);
  const existed = dataDirExists(settings);
  let notices: readonly StartupNotice[] = [];
  const v = await openLocalServices(io, env, { create: true, notices: (n) => (notices = n) });
  await v.close();
  const engine = settings.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : 'SQLite veil.db';
  if (values.json) {
    io.out(JSON.stringify({ dataDir: settings.dataDir, created: !existed, engine, notices }) + '\n');
    return 0;
  }
  io.out(
    existed
      ? `data directory ${settings.dataDir} already in use (${engine}); nothing to do\n` +
          notices.map(noticeLine).join('')
      : `created the data directory ${settings.dataDir} (${engine}, keys, audit signing key)\n` +
          notices.map(noticeLine).join('') +
          "Create an API key with 'veil keys create --role admin --purpose \"*\"', or start the server with 'veil serve'.\n",
  );
  return 0;
}

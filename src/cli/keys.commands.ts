import { readFileSync } from 'node:fs';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';

const USAGE = `usage: veil keys rotate-master [--new-key-file FILE] [--json]
With every other Veil process stopped: a new master key, every data key in keys/ rewrapped under it,
everything sealed under keys derived from it sealed again, contact hashes recomputed. The new key is
generated into master.key, or read from FILE (64 hex digits or base64 of 32 bytes) when you keep it in
a secret store. If it stops halfway, run the same command again before starting Veil.`;

/** Reads a key file as VEIL_MASTER_KEY is read: 64 hex digits, else base64. */
function keyFrom(path: string): Buffer {
  const v = readFileSync(path, 'utf8').trim();
  return /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
}

/** `veil keys rotate-master`. */
export async function rotateMasterCommand(
  argv: string[],
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  const { values, positionals } = parseCommand(
    argv,
    { 'new-key-file': { type: 'string' }, json: { type: 'boolean' } },
    USAGE,
  );
  if (values.help) return (io.out(USAGE + '\n'), 0);
  if (positionals.length) throw new UsageError(USAGE);
  const file = values['new-key-file'];
  const v = await openLocalServices(io, env);
  let r;
  try {
    r = await v.keyRotation.rotateMaster(cliActor(), file ? { newKey: keyFrom(file) } : {});
  } finally {
    await v.close();
  }
  if (values.json) {
    io.out(JSON.stringify(r) + '\n');
    return 0;
  }
  const c = r.counts;
  const todo = r.keyFile
    ? r.fromEnv
      ? `VEIL_MASTER_KEY still holds the old key: put the new one (in ${r.keyFile}) into your secret store as VEIL_MASTER_KEY for every process, then delete ${r.keyFile}.`
      : `The new key is in ${r.keyFile}; keep a copy apart from the data directory and its backups.`
    : `Set VEIL_MASTER_KEY to the key in ${file} for every process, then remove ${file} from this machine once it is in your secret store.`;
  io.out(
    [
      `master key rotated: ${r.from} -> ${r.to}`,
      `rewrapped ${c.slots} data keys; sealed again ${c.requests} rights requests, ${c.enrollments} portal enrollments, ${c.suppressions} suppression entries, ${c.media} media files, ${c.exports} export files; ${c.subjects} contact hashes recomputed`,
      ...(r.unreadable ? [`${r.unreadable} items opened under neither key and were left as they were`] : []),
      'Codes emailed before the rotation no longer verify: people ask for a new one.',
      todo,
      'The old key no longer opens anything this installation holds now; backups taken before the rotation still need it.',
    ].join('\n') + '\n',
  );
  return 0;
}

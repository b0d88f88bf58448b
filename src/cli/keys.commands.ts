import { readFileSync } from 'node:fs';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { usageOf } from './help.js';
import { VeilError } from '../errors.js';
import { ROLES, type Role } from '../auth/api-keys.js';
import { COMPREFACE_KEY_OPTIONS, createCompreFaceKey } from './compreface.keys.js';

const USAGE = usageOf('keys', 'rotate-master');

/** `veil keys create|list|revoke`. */
export async function keysCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      role: { type: 'string' },
      purpose: { type: 'string', multiple: true },
      name: { type: 'string' },
      ...COMPREFACE_KEY_OPTIONS,
    },
    usageOf('keys'),
  );
  if (sub !== 'create' && sub !== 'list' && sub !== 'revoke') throw new UsageError(usageOf('keys'));
  if (sub === 'create' && (!values.role || !ROLES.includes(values.role as Role) || !values.purpose?.length))
    throw new UsageError(usageOf('keys', 'create'));
  if (sub === 'revoke' && positionals.length !== 1) throw new UsageError(usageOf('keys', 'revoke'));
  const v = await openLocalServices(io);
  try {
    if (sub === 'create' && values.compreface)
      return await createCompreFaceKey(v, values, io, usageOf('keys', 'create'));
    if (sub === 'create') {
      const r = await v.apiKeys.create(cliActor(), {
        name: values.name ?? `${values.role} key`,
        role: values.role as Role,
        purposes: values.purpose!,
      });
      io.out(
        values.json
          ? JSON.stringify(r) + '\n'
          : `created ${r.key.id} (${r.key.role}, purposes ${r.key.purposes.join(', ')}); the token is shown only now:\n${r.token}\n`,
      );
    } else if (sub === 'list') {
      const keys = await v.apiKeys.list(cliActor());
      io.out(
        values.json
          ? JSON.stringify(keys) + '\n'
          : keys
              .map(
                (k) => `${k.id}\t${k.role}\t${k.purposes.join(',')}\t${k.revokedAt ? 'revoked' : 'active'}\t${k.name}`,
              )
              .join('\n') + '\n',
      );
    } else {
      await v.apiKeys.revoke(cliActor(), positionals[0]!);
      io.out(values.json ? JSON.stringify({ revoked: positionals[0] }) + '\n' : `revoked ${positionals[0]}\n`);
    }
    return 0;
  } finally {
    await v.close();
  }
}

/** Reads a key file as VEIL_MASTER_KEY is read: 64 hex digits, else base64. */
export function keyFrom(path: string): Buffer {
  let v: string;
  try {
    v = readFileSync(path, 'utf8').trim();
  } catch {
    // The key itself given in place of its file's name: a message repeating it would put it in logs.
    const key = /^[0-9a-fA-F]{64}$/.test(path) || /^[A-Za-z0-9+/_-]{43}=?$/.test(path);
    throw new VeilError('NOT_FOUND', `${key ? 'The value given (a key, not a file name?)' : path}: no such file.`);
  }
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

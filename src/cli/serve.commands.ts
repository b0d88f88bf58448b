import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';
import { ROLES, type Role } from '../auth/api-keys.js';

export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand(
    argv,
    { port: { type: 'string' }, host: { type: 'string' } },
    'usage: veil serve [--host H] [--port P]',
  );
  if (values.help)
    return (
      io.out(
        'usage: veil serve [--host H] [--port P]\nServes the API, /docs and the web UI; configuration from VEIL_* variables.\n',
      ),
      0
    );
  const env = {
    ...process.env,
    ...(values.port ? { VEIL_PORT: values.port } : {}),
    ...(values.host ? { VEIL_HOST: values.host } : {}),
  };
  const { serve } = await import('../app/server.js');
  const s = await serve(env, (l) => io.err(l + '\n'));
  if (s.adminToken) {
    io.out(
      `\nFirst start: created an admin API key. It is shown only this once; store it now:\n\n  ${s.adminToken}\n\n`,
    );
  }
  io.out(`Veil is serving on ${s.url}  (API /v1, docs ${s.url}/docs)\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      io.err('veil: shutting down (draining requests)...\n');
      void s.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

export async function keysCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const usage =
    'usage: veil keys create --role admin|operator|investigator|dpo|auditor --purpose KEY (repeatable, * for all) [--name N]\n       veil keys list\n       veil keys revoke <id>';
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      role: { type: 'string' },
      purpose: { type: 'string', multiple: true },
      name: { type: 'string' },
    },
    usage,
  );
  if (values.help || !sub) return (io.out(usage + '\n'), sub ? 0 : 2);
  const v = await openLocalServices(io);
  try {
    if (sub === 'create') {
      if (!values.role || !ROLES.includes(values.role as Role) || !values.purpose?.length) throw new UsageError(usage);
      const r = await v.apiKeys.create(cliActor(), {
        name: values.name ?? `${values.role} key`,
        role: values.role as Role,
        purposes: values.purpose,
      });
      io.out(
        values.json
          ? JSON.stringify(r) + '\n'
          : `created ${r.key.id} (${r.key.role}, purposes ${r.key.purposes.join(', ')}); the token is shown only now:\n${r.token}\n`,
      );
      return 0;
    }
    if (sub === 'list') {
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
      return 0;
    }
    if (sub === 'revoke' && positionals.length === 1) {
      await v.apiKeys.revoke(cliActor(), positionals[0]!);
      io.out(`revoked ${positionals[0]}\n`);
      return 0;
    }
    throw new UsageError(usage);
  } finally {
    await v.close();
  }
}

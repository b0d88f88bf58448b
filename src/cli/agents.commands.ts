import { readFileSync } from 'node:fs';
import { parseCommand } from './args.js';
import { cliActor, openLocalServices } from './context.js';
import { UsageError, type Io } from './output.js';

const USAGE = `usage: veil agents add <agent-id> --name NAME (--verify-key BASE64 | --verify-key-file FILE)
                  [--callback-origin https://agent.example] [--web-url URL]
       veil agents list
       veil agents revoke <agent-id>
Authorized agents of the Data Rights Protocol (admin only): the registry stands in for the protocol's
service directory. An agent signs its messages with the Ed25519 key whose public half is registered
here; its status callbacks go only to its callback origin.`;

/** \`veil agents\`: register, list and revoke authorized agents. */
export async function agentsCommand(argv: string[], io: Io): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseCommand(
    rest,
    {
      json: { type: 'boolean' },
      name: { type: 'string' },
      'verify-key': { type: 'string' },
      'verify-key-file': { type: 'string' },
      'callback-origin': { type: 'string' },
      'web-url': { type: 'string' },
    },
    USAGE,
  );
  if (values.help || !sub) return (io.out(USAGE + '\n'), sub ? 0 : 2);
  const v = await openLocalServices(io);
  try {
    if (sub === 'add' && positionals.length === 1) {
      const key =
        values['verify-key'] ?? (values['verify-key-file'] && readFileSync(values['verify-key-file'], 'utf8'));
      if (!values.name || !key) throw new UsageError(USAGE);
      const a = await v.rights.agents.add(cliActor(), {
        id: positionals[0]!,
        name: values.name,
        verifyKey: key,
        callbackOrigin: values['callback-origin'],
        webUrl: values['web-url'],
      });
      io.out(
        values.json
          ? JSON.stringify(a) + '\n'
          : `registered agent ${a.id} (${a.name}); callbacks ${a.callbackOrigin ? `to ${a.callbackOrigin}` : 'off'}\n`,
      );
      return 0;
    }
    if (sub === 'list' && !positionals.length) {
      const all = await v.rights.agents.list(cliActor());
      io.out(
        values.json
          ? JSON.stringify(all) + '\n'
          : all
              .map(
                (a) =>
                  `${a.id}\t${a.revokedAt ? 'revoked' : a.pairedAt ? 'paired' : 'not paired'}\t${a.callbackOrigin ?? '-'}\t${a.name}`,
              )
              .join('\n') + (all.length ? '\n' : ''),
      );
      return 0;
    }
    if (sub === 'revoke' && positionals.length === 1) {
      await v.rights.agents.revoke(cliActor(), positionals[0]!);
      io.out(`revoked agent ${positionals[0]}\n`);
      return 0;
    }
    throw new UsageError(USAGE);
  } finally {
    await v.close();
  }
}

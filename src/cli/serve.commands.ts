import { parseCommand } from './args.js';
import { usageOf } from './help.js';
import type { Io } from './output.js';

/** `veil serve` (npm start): the API, its docs and the web UI until SIGINT or SIGTERM. */
export async function serveCommand(argv: string[], io: Io): Promise<number> {
  const { values } = parseCommand(
    argv,
    { port: { type: 'string' }, host: { type: 'string' }, 'log-json': { type: 'boolean' } },
    usageOf('serve'),
  );
  const env = {
    ...process.env,
    ...(values.port ? { VEIL_PORT: values.port } : {}),
    ...(values.host ? { VEIL_HOST: values.host } : {}),
  };
  const { serve } = await import('../app/server.js');
  const { startLog } = await import('../app/server-log.js');
  const log = startLog({ json: Boolean(values['log-json']) || !io.stderrIsTty, write: (t) => io.err(t) });
  const s = await serve(env, log);
  if (s.adminToken) io.out(adminKeyBox(s.adminToken));
  io.out(`Veil is serving on ${s.url}  (API /v1, docs ${s.url}/docs, data ${s.veil.dataDir})\n`);
  await new Promise<void>((resolve) => {
    const stop = () => {
      log.info('shutting down (draining requests)...');
      void s.close().then(resolve);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return 0;
}

/** The first admin key, shown once, in a box, with what to do when it is lost. */
export function adminKeyBox(token: string): string {
  const lines = [
    'First start: an admin API key. It is shown only this once; store it now:',
    '',
    `    ${token}`,
    '',
    'Lost it? In this folder, with the server running or not, create another one:',
    `    npx veil keys create --role admin --purpose '*' --name "second admin"`,
    'and revoke the lost one: npx veil keys list, then npx veil keys revoke key_...',
  ];
  const w = Math.max(...lines.map((l) => l.length));
  return `\n+${'-'.repeat(w + 2)}+\n${lines.map((l) => `| ${l.padEnd(w)} |`).join('\n')}\n+${'-'.repeat(w + 2)}+\n\n`;
}

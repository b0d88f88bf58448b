import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from '../support/faces.js';

/**
 * A real `veil serve` on a data directory, with 2 engine workers (one per core), on a random
 * loopback port; resolves once it says it is serving. Its stderr passes through with `logs`; `env` adds
 * to (or overrides) its environment.
 */
export async function startServer(dataDir: string, opts: { logs?: boolean; env?: NodeJS.ProcessEnv } = {}) {
  const port = 18000 + Math.floor(Math.random() * 1000);
  const workers = Number(opts.env?.['VEIL_ENGINE_WORKERS'] ?? 2);
  const server = spawn(process.execPath, [join(REPO, 'bin/veil.mjs'), 'serve', '--log-json'], {
    env: {
      ...process.env,
      VEIL_DATA_DIR: dataDir,
      VEIL_PORT: String(port),
      VEIL_ENGINE_WORKERS: String(workers),
      VEIL_LOG: 'off',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', opts.logs ? 'inherit' : 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => d.toString().includes('serving on') && resolve());
    server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    workers,
    pid: server.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        server.on('exit', () => resolve());
        server.kill('SIGTERM');
      }),
  };
}

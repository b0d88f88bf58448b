import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './faces.js';

export interface ServerProcess {
  readonly url: string;
  /** The first-start admin token, when this process created it. */
  readonly adminToken: string | null;
  readonly child: ChildProcess;
  /** Everything the process wrote to stderr (for failure messages). */
  stderr(): string;
  /** SIGTERM and wait for a clean exit (drain, final signed head). */
  stop(): Promise<number | null>;
  /** SIGKILL: the crash case, nothing gets to clean up. */
  kill(): Promise<void>;
}

/**
 * A real `veil serve` process (the bin, as an operator runs it) on a random loopback port. Only
 * the variables given reach it, so the suite's own DATABASE_URL or VEIL_* settings never leak in.
 */
export async function spawnServer(env: Record<string, string>, timeoutMs = 90_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'veil.mjs'), 'serve', '--port', '0'], {
    cwd: REPO,
    env: {
      PATH: process.env['PATH'] ?? '',
      HOME: process.env['HOME'] ?? '/tmp',
      VEIL_LOG: 'off',
      VEIL_ENGINE_WORKERS: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString('utf8')));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`veil serve did not start within ${timeoutMs} ms:\n${err}`)),
      timeoutMs,
    );
    const look = () => {
      const m = /serving on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', look);
    void exited.then((code) => {
      clearTimeout(t);
      reject(new Error(`veil serve exited with ${code} before serving:\n${err}`));
    });
  });
  const token = /store it now:[\s|]+(\S+)/.exec(out)?.[1] ?? null;
  return {
    url,
    adminToken: token,
    child,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null || child.signalCode) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';

/**
 * Waits for an flock(1) lock (the shared bench lock, so two timed runs never overlap), held by a
 * child process until the function returned is called.
 */
export async function holdLock(file: string, log: (s: string) => void): Promise<() => void> {
  log(`waiting for ${file}`);
  const child = spawn('flock', [file, 'sh', '-c', 'echo taken; cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((ok) => child.stdout.once('data', ok));
  log(
    `lock taken, load average ${loadavg()
      .map((x) => x.toFixed(2))
      .join(' ')}`,
  );
  return () => child.stdin.end();
}

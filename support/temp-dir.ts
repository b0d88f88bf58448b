import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Test data directories hold a master key and sealed photos of real faces: they go when the
// process that made them exits (VEIL_KEEP_TEST_DIRS=1 keeps them for a post-mortem).
const made: string[] = [];
process.on('exit', () => {
  if (process.env['VEIL_KEEP_TEST_DIRS'] === '1') return;
  for (const dir of made) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
});

export function tempDir(prefix = 'veil-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

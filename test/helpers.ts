import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Labelled real photos shared by the project (read-only). */
export const FACES = process.env['VEIL_FACES_DIR'] ?? join(REPO, '..', 'shared', 'faces');

export function face(path: string): Buffer {
  return readFileSync(join(FACES, path));
}

export function pairs(set: string): { a: string; b: string; same: boolean }[] {
  return readFileSync(join(FACES, set, 'all_pairs.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [a, b, s] = l.split(',');
      return { a: `${set}/${a}`, b: `${set}/${b}`, same: s === '1' };
    });
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export function tempDir(prefix = 'veil-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Labelled real photos shared by the project (read-only); VEIL_FACES_DIR points elsewhere. */
export const FACES = process.env['VEIL_FACES_DIR'] ?? join(REPO, '..', 'shared', 'faces');

/** A photo from the shared set. A missing fixture is an error naming it, never a silent pass. */
export function face(path: string): Buffer {
  const p = join(FACES, path);
  if (!existsSync(p)) throw new Error(`missing fixture photo ${p} (set VEIL_FACES_DIR to the shared faces folder)`);
  return readFileSync(p);
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

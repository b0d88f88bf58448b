import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { FACES } from '../support/faces.js';

/** The benchmark set: deepface_small photos (long side <= 640 px, one face each). */
export function benchImages(): { name: string; bytes: Buffer }[] {
  const root = join(FACES, 'deepface_small');
  const out: { name: string; bytes: Buffer }[] = [];
  for (const id of readdirSync(root)
    .filter((d) => d.startsWith('id'))
    .sort()) {
    for (const f of readdirSync(join(root, id)).sort())
      out.push({ name: `${id}/${f}`, bytes: readFileSync(join(root, id, f)) });
  }
  return out;
}

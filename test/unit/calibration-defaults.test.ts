import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { REPO } from '../helpers.js';

// A declared model must never be run with the shipped model's numbers: the shipped defaults are read in
// one place, which hands the active model's calibration to everything else (src/face/model-calibration.ts).

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? sources(p) : n.endsWith('.ts') ? [p] : [];
  });
}

test("only model-calibration.ts reads the shipped model's calibration and tail", () => {
  const readers = sources(join(REPO, 'src'))
    .filter((f) => /calibration\.default\.js|DEFAULT_CALIBRATION|DEFAULT_IMPOSTOR_TAIL/.test(readFileSync(f, 'utf8')))
    .map((f) => relative(REPO, f))
    .sort();
  assert.deepEqual(readers, ['src/face/calibration.default.ts', 'src/face/model-calibration.ts']);
});

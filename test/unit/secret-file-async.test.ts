import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeSecretFileAsync } from '../../src/privacy/secret-files.js';
import { tempDir } from '../../support/database.js';

test('writeSecretFileAsync writes the whole content a step at a time, 0600 in a 0700 directory, no temporary left', async () => {
  const dir = join(tempDir('veil-secret-async-'), 'index');
  for (const [size, step] of [
    [0, 1024],
    [10_000, 1024],
    [3 << 20, 1 << 20],
  ] as const) {
    const content = randomBytes(size);
    const path = join(dir, `f${size}.seg`);
    await writeSecretFileAsync(path, content, step);
    assert.deepEqual(readFileSync(path), content);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  }
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  assert.deepEqual(readdirSync(dir).sort(), ['f0.seg', 'f10000.seg', 'f3145728.seg']);
});

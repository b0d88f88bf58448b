import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO, engineEnv, tempDir } from '../helpers.js';
import { TestAgent } from '../../support/drp-agent.js';

test('veil agents: add (key inline or from a file), list, revoke; bad keys and origins are refused', async () => {
  const dir = tempDir();
  const env = { ...process.env, VEIL_DATA_DIR: dir, ...(await engineEnv()) };
  const cli = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
      encoding: 'utf8',
      env,
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const veil = (...args: string[]) => cli('agents', ...args);
  // Only `veil init` (or `veil serve`) creates a data directory.
  cli('init');
  const a = new TestAgent('CR_PS', 'b');
  const b = new TestAgent('OTHER', 'b');
  const added = veil(
    'add',
    a.id,
    '--name',
    'Permission Slip',
    '--verify-key',
    a.verifyKey,
    '--callback-origin',
    'https://agent.example',
  );
  assert.equal(added.code, 0, added.err);
  assert.match(added.out, /registered agent CR_PS \(Permission Slip\); callbacks to https:\/\/agent\.example/);
  writeFileSync(join(dir, 'key.txt'), `${b.verifyKey}\n`);
  const fromFile = veil('add', b.id, '--name', 'Other', '--verify-key-file', join(dir, 'key.txt'));
  assert.equal(fromFile.code, 0, fromFile.err);
  assert.notEqual(veil('add', 'X', '--name', 'x', '--verify-key', 'not-a-key').code, 0);
  assert.notEqual(
    veil('add', 'Y', '--name', 'y', '--verify-key', a.verifyKey, '--callback-origin', 'http://agent.example').code,
    0,
  );
  assert.notEqual(veil('add', a.id, '--name', 'again', '--verify-key', a.verifyKey).code, 0, 'ids are unique');
  const list = veil('list');
  assert.equal(list.code, 0);
  assert.deepEqual(
    list.out
      .trim()
      .split('\n')
      .map((l) => l.split('\t').slice(0, 3)),
    [
      ['CR_PS', 'not paired', 'https://agent.example'],
      ['OTHER', 'not paired', '-'],
    ],
  );
  assert.equal(veil('revoke', b.id).code, 0);
  const json = JSON.parse(veil('list', '--json').out) as { id: string; revokedAt: string | null }[];
  assert.deepEqual(
    json.map((x) => [x.id, Boolean(x.revokedAt)]),
    [
      ['CR_PS', false],
      ['OTHER', true],
    ],
  );
  assert.notEqual(veil('revoke', b.id).code, 0, 'already revoked');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openVeil } from '../../src/app/veil.js';
import { anyPurposeAdmin as admin } from '../../support/actors.js';
import { engineEnv, REPO, tempDir } from '../helpers.js';

function veil(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('purpose set-fpir: sets the target FPIR within its limits; out of limits exits 1, bad usage 2', async () => {
  const dataDir = tempDir('veil-cli-fpir-');
  const db = await engineEnv();
  const env = { ...db, VEIL_DATA_DIR: dataDir };
  const v = await openVeil({ dataDir, env, ...(db['DATABASE_URL'] ? { databaseUrl: db['DATABASE_URL'] } : {}) });
  await v.purposes.create(admin, {
    key: 'watch',
    name: 'Watch',
    description: 'Watchlist under a legal obligation.',
    lawfulBasis: 'legal-obligation',
    art9Condition: 'substantial-public-interest',
    legalReference: 'Act 12 s.3',
  });
  await v.close();

  const r = veil(env, 'purpose', 'set-fpir', 'watch', '0.002', '--json');
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).fpir, 0.002);
  assert.match(veil(env, 'purpose', 'set-fpir', 'watch', '0.03').out, /purpose watch: target FPIR 0.03/);
  const loose = veil(env, 'purpose', 'set-fpir', 'watch', '0.5');
  assert.equal(loose.code, 1);
  assert.match(loose.err, /INVALID_INPUT: fpir must be within 0.0001 and 0.05/);
  assert.equal(veil(env, 'purpose', 'set-fpir', 'watch', 'often').code, 2);
  assert.equal(veil(env, 'purpose', 'set-fpir', 'watch').code, 2);
  assert.equal(veil(env, 'purpose', 'set-fpir', 'nowhere', '0.01').code, 1);
  const list = JSON.parse(veil(env, 'purpose', 'list', '--json').out) as { key: string; fpir: number }[];
  assert.equal(list.find((p) => p.key === 'watch')!.fpir, 0.03);
});

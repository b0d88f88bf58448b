import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openAuditLog } from '../../src/audit/audit.setup.js';
import { ManualClock } from '../../src/clock.js';
import { verifyInclusion } from '../../src/audit/merkle.js';
import { REPO, engineEnv, openTestStore, tempDir } from '../helpers.js';

function veil(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

test('audit export -> verify round trip through the CLI, tamper found, proofs printed', async () => {
  const dir = tempDir();
  const dbEnv = await engineEnv();
  const env = { VEIL_DATA_DIR: dir, ...dbEnv };
  assert.equal(veil(env, 'init').code, 0);
  const store = await openTestStore(dir, dbEnv['DATABASE_URL']);
  const { audit } = await openAuditLog(
    store,
    dir,
    new ManualClock(),
    { checkpointEvery: 5, checkpointSeconds: 60 },
    undefined,
  );
  for (let i = 0; i < 12; i++)
    await store.transaction((tx) =>
      audit.append(tx, {
        actor: { kind: 'api-key', id: 'k1' },
        action: 'consent.given',
        subjectIds: [`s${i}`],
        purposeId: 'p',
        detail: { version: 1 },
      }),
    );
  await store.close();

  const pub = JSON.parse(veil(env, 'audit', 'pubkey', '--json').out);
  assert.equal(pub.keyId, audit.keyId);
  writeFileSync(join(dir, 'pub.pem'), pub.publicKey);
  const written = veil(env, 'audit', 'pubkey', '--out', join(dir, 'pub2.pem'));
  assert.equal(written.code, 0, written.err);
  assert.equal(readFileSync(join(dir, 'pub2.pem'), 'utf8'), pub.publicKey.trim() + '\n');

  const out = join(dir, 'export.jsonl');
  const ex = veil(env, 'audit', 'export', '--out', out);
  assert.equal(ex.code, 0, ex.err);
  assert.match(ex.out, /exported 12 entries/);
  const ok = veil({}, 'audit', 'verify', out, '--pubkey', join(dir, 'pub.pem'));
  assert.equal(ok.code, 0, ok.out + ok.err);
  assert.match(ok.out, /^OK: 12 entries/);

  const lines = readFileSync(out, 'utf8').trim().split('\n');
  const i = lines.findIndex((l) => l.includes('"seq":7,'));
  const e = JSON.parse(lines[i]!);
  e.entry.subjectIds = ['someone-else'];
  lines[i] = JSON.stringify(e);
  writeFileSync(join(dir, 'bad.jsonl'), lines.join('\n') + '\n');
  const bad = veil({}, 'audit', 'verify', join(dir, 'bad.jsonl'), '--json');
  assert.equal(bad.code, 1);
  const r = JSON.parse(bad.out);
  assert.equal(r.failure.code, 'AUDIT_TAMPERED');
  assert.equal(r.failure.seq, 7);

  const proof = JSON.parse(veil(env, 'audit', 'prove', '3', '--json').out);
  assert.ok(
    verifyInclusion(
      2,
      proof.treeSize,
      Buffer.from(proof.leafHash, 'hex'),
      proof.proof.map((x: string) => Buffer.from(x, 'hex')),
      Buffer.from(proof.head.rootHash, 'hex'),
    ),
  );
  assert.equal(veil(env, 'audit', 'prove', '999').code, 1);
  assert.equal(veil(env, 'audit', 'prove').code, 2);
  // A missing file is named, never INTERNAL: ENOENT.
  const missing = veil({}, 'audit', 'verify', join(dir, 'nope.jsonl'));
  assert.equal(missing.code, 1);
  assert.match(missing.err, /^veil: NOT_FOUND: .*nope\.jsonl/);
  const noKey = veil({}, 'audit', 'verify', out, '--pubkey', join(dir, 'nope.pem'));
  assert.equal(noKey.code, 1);
  assert.match(noKey.err, /^veil: NOT_FOUND: .*nope\.pem/);
  const noDir = veil(env, 'audit', 'export', '--out', join(dir, 'no', 'such', 'x.jsonl'));
  assert.equal(noDir.code, 1);
  assert.match(noDir.err, /^veil: NOT_FOUND: .*x\.jsonl/);
});

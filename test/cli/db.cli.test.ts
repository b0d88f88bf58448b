import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { FACES, REPO, engineEnv, tempDir } from '../helpers.js';

test('veil migrate and veil db check: deploy-time schema step, and a check that finds what a bad deploy breaks', async () => {
  const dir = tempDir();
  const env: NodeJS.ProcessEnv = { ...process.env, VEIL_DATA_DIR: dir, ...(await engineEnv()) };
  delete env['VEIL_MASTER_KEY'];
  const veil = (args: string[], extra: Record<string, string> = {}) => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
      encoding: 'utf8',
      env: { ...env, ...extra },
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr, json: () => JSON.parse(r.stdout) };
  };
  const check = (extra: Record<string, string> = {}) => {
    const r = veil(['db', 'check', '--json'], extra);
    type Row = { name: string; status: string; detail: string };
    const byName = Object.fromEntries((r.json().checks as Row[]).map((c) => [c.name, c])) as Record<string, Row>;
    return { code: r.code, byName };
  };

  // A server configured to expect a separate migration step refuses an empty database.
  const refused = veil(['init'], { VEIL_AUTO_MIGRATE: 'false' });
  assert.equal(refused.code, 1);
  assert.match(refused.err, /SCHEMA_OUTDATED.*veil migrate/);
  const status = veil(['migrate', '--status', '--json']).json();
  assert.ok(status.pending.length >= 6);
  assert.equal(check().byName['schema']!.status, 'fail');
  const applied = veil(['migrate', '--json']).json();
  assert.deepEqual(
    applied.applied.map((m: { version: number }) => m.version),
    status.pending.map((m: { version: number }) => m.version),
  );
  assert.equal(veil(['migrate', '--status', '--json']).json().pending.length, 0);
  assert.match(veil(['migrate']).out, /nothing to do/);
  // The schema is in place; `veil init` adds the keystore and signing key, then commands run.
  assert.equal(veil(['init'], { VEIL_AUTO_MIGRATE: 'false' }).code, 0);
  assert.equal(veil(['purpose', 'list'], { VEIL_AUTO_MIGRATE: 'false' }).code, 0);

  // A subject with a kept photo: everything checks out.
  assert.equal(
    veil([
      'purpose',
      'create',
      '--key',
      'gym',
      '--name',
      'Gym',
      '--description',
      'Members check in at the door by face.',
      '--basis',
      'consent',
      '--keep-images',
    ]).code,
    0,
  );
  writeFileSync(join(dir, 'notice.txt'), 'We compare your face with the photo you gave us when you check in.');
  const c = veil([
    'consent',
    'give',
    '--purpose',
    'gym',
    '--notice-file',
    join(dir, 'notice.txt'),
    '--notice-version',
    '1',
    '--method',
    'paper',
    '--collector',
    'desk',
    '--json',
  ]).json();
  assert.equal(
    veil([
      'subject',
      'enroll',
      '--purpose',
      'gym',
      '--consent',
      c.consent.id,
      join(FACES, 'face_recognition/obama/test_obama.jpg'),
    ]).code,
    0,
  );
  assert.equal(veil(['audit', 'head']).code, 0);
  const ok = check();
  assert.equal(ok.code, 0, JSON.stringify(ok.byName));
  for (const name of [
    'connection',
    'schema',
    'audit log',
    'audit signing keys',
    'master key',
    'erased subjects',
    'files',
    'index change feed',
  ])
    assert.equal(ok.byName[name]?.status, 'ok', `${name}: ${ok.byName[name]?.detail}`);

  // A process started with another master key (the classic two-server mistake) is caught.
  const wrongKey = check({ VEIL_MASTER_KEY: 'ab'.repeat(32) });
  assert.equal(wrongKey.code, 1);
  assert.equal(wrongKey.byName['master key']!.status, 'fail');

  // A file left by a process killed mid-write is reported, then removed on --repair.
  const orphan = join(dir, 'media', 'p_x', 'orphan.sealed');
  mkdirSync(join(dir, 'media', 'p_x'), { recursive: true });
  writeFileSync(orphan, 'sealed bytes');
  utimesSync(orphan, new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
  assert.equal(check().byName['files']!.status, 'warn');
  assert.equal(veil(['db', 'check', '--repair']).code, 0);
  assert.ok(!existsSync(orphan));

  // A stored photo missing from the data directory (a second host without the shared volume) fails.
  const imgDir = join(dir, 'images');
  const [subjectDir] = readdirSync(imgDir);
  const [sealed] = readdirSync(join(imgDir, subjectDir!));
  rmSync(join(imgDir, subjectDir!, sealed!));
  const missing = check();
  assert.equal(missing.code, 1);
  assert.equal(missing.byName['files']!.status, 'fail');
  assert.match(missing.byName['files']!.detail, /1 stored files are missing/);
  assert.doesNotMatch(JSON.stringify(missing), /obama|@/, 'the report names no person');
});

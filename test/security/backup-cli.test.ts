import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId } from '../../src/ids.js';
import { MasterKey } from '../../src/privacy/keys.js';
import { engine, NOTICE, operator } from '../gallery/fixture.js';
import { ENGINE, REPO, engineOptions, face, tempDir } from '../helpers.js';

const PEOPLE = ['face_recognition/obama/test_obama.jpg', 'face_recognition/biden/test_biden.jpg'];

test(`veil backup, veil restore and veil keys rotate-master from the command line (${ENGINE})`, async () => {
  const dir = tempDir('veil-cli-keys-');
  const { databaseUrl } = await engineOptions();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    VEIL_DATA_DIR: dir,
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
  };
  delete env['VEIL_MASTER_KEY'];
  delete env['VEIL_URL'];
  const veil = (...args: string[]) => {
    const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
      encoding: 'utf8',
      env,
      timeout: 120_000,
    });
    return { code: r.status, out: r.stdout, err: r.stderr };
  };
  const open = async () =>
    openVeil({ dataDir: dir, engine: await engine(), env: {}, ...(databaseUrl ? { databaseUrl } : {}) });

  let v = await open();
  const ids: SubjectId[] = [];
  try {
    await v.purposes.create(operator, {
      key: 'members',
      name: 'Members',
      description: 'Members check in by face at the door.',
      lawfulBasis: 'consent',
    });
    for (const p of PEOPLE) {
      const { consent } = await v.consents.give(operator, {
        purpose: 'members',
        noticeText: NOTICE,
        noticeVersion: '1',
        method: 'api',
        collector: 'test',
      });
      ids.push(
        (await v.gallery.enroll(operator, { purpose: 'members', consentId: consent.id, images: [face(p)] }))
          .subjectId as SubjectId,
      );
    }
  } finally {
    await v.close();
  }

  const out = join(tempDir('veil-cli-backup-'), 'b');
  const backup = veil('backup', '--out', out);
  if (ENGINE === 'postgres') {
    assert.equal(backup.code, 1);
    assert.match(backup.err, /INVALID_STATE.*pg_dump/);
    assert.equal(veil('restore', out).code, 1);
  } else {
    assert.equal(backup.code, 0, backup.err);
    assert.match(backup.out, /not in it, on purpose:\n {2}keys\/ /);
    assert.ok(existsSync(join(out, 'manifest.json')) && !existsSync(join(out, 'keys')));
  }

  v = await open();
  try {
    await v.lifecycle.erase([ids[0]!], actors.system('test'), null);
  } finally {
    await v.close();
  }

  if (ENGINE === 'sqlite') {
    const restore = veil('restore', out);
    assert.equal(restore.code, 0, restore.err);
    assert.match(restore.out, new RegExp(`replayed 1 erasures .*system:restore.*${ids[0]}`));
  }
  const replay = veil('restore', '--replay-only', '--json');
  assert.equal(replay.code, 0, replay.err);
  assert.deepEqual(JSON.parse(replay.out).replayed, []);
  assert.equal(veil('restore').code, 2, 'a directory or --replay-only');

  const before = readFileSync(join(dir, 'master.key'), 'utf8');
  const rotated = veil('keys', 'rotate-master');
  assert.equal(rotated.code, 0, rotated.err);
  assert.match(rotated.out, /master key rotated: [0-9a-f]{32} -> [0-9a-f]{32}\nrewrapped 1 data keys/);
  assert.match(rotated.out, /The new key is in .*master\.key/);
  assert.notEqual(readFileSync(join(dir, 'master.key'), 'utf8'), before);

  v = await open();
  try {
    const hit = await v.search.identify(operator, {
      purpose: 'members',
      image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
      justification: 'after rotation',
    });
    assert.deepEqual(
      hit.candidates.map((c) => c.subjectId),
      [ids[1]],
    );
  } finally {
    await v.close();
  }

  if (ENGINE === 'sqlite') {
    // The backup was taken under the key just rotated away: given it, the restore moves what it sealed.
    const oldKey = join(tempDir('veil-cli-old-key-'), 'old.key');
    writeFileSync(oldKey, before, { mode: 0o600 });
    const again = veil('restore', out, '--previous-master-key', oldKey, '--json');
    assert.equal(again.code, 0, again.err);
    const from = MasterKey.fromBytes(Buffer.from(before.trim(), 'hex')).id;
    assert.equal(JSON.parse(again.out).resealed.from, from);
    assert.equal(veil('restore', out, '--previous-master-key', join(dir, 'no-such.key')).code, 1);
  }
  // The key itself pasted where its file goes: refused without the message repeating it (stderr is logged).
  for (const flag of [
    ['restore', '--replay-only', '--previous-master-key'],
    ['keys', 'rotate-master', '--new-key-file'],
  ]) {
    const pasted = veil(...flag, before.trim());
    assert.equal(pasted.code, 1, pasted.err);
    assert.ok(!(pasted.out + pasted.err).includes(before.trim()), `${flag.join(' ')} echoed the key it was given`);
  }
});

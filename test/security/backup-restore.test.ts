import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings } from '../../src/config/settings.js';
import { actors } from '../../src/auth/actor.js';
import { restoreBackup } from '../../src/ops/restore.js';
import { ManualClock } from '../../src/clock.js';
import type { SubjectId, TemplateId } from '../../src/ids.js';
import { NOTICE, operator } from '../gallery/fixture.js';
import { keyActor } from '../../support/actors.js';
import { ENGINE, engineOptions, face, tempDir } from '../helpers.js';
import { filesUnder } from './disk.js';
import { GcmWindowScanner } from './gcm-scan.js';
import {
  BIDEN,
  OBAMA,
  backUpAndRestoreLater,
  enroll,
  matches,
  membersPurpose,
  open,
  restoreAndReplay,
} from './restore-fixture.js';

test(`a ${ENGINE} backup taken before an erasure, restored after it, does not bring the person back`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  let gone: SubjectId, kept: SubjectId, backup;
  try {
    await v.purposes.create(operator, {
      key: 'members',
      name: 'Members',
      description: 'Members check in by face; their enrollment photo is kept.',
      lawfulBasis: 'consent',
      keepSourceImages: true,
    });
    gone = await enroll(v, OBAMA[0]!);
    kept = await enroll(v, BIDEN);
    const goneKey = await v.keyring.get(v.store.db, gone);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    if (backup.dir) {
      // No key in the backup: not the keystore, not master.key, and no window of any file unwraps.
      const names = readdirSync(backup.dir).sort();
      assert.deepEqual(names, ['images', 'manifest.json', 'veil.db']);
      assert.deepEqual(Object.keys(backup.manifest!.excluded).sort(), [
        'audit-signing-key.pem',
        'keys/',
        'master.key',
        'outbox/',
      ]);
      const scanner = new GcmWindowScanner(Buffer.from(masterHex, 'hex'), [
        ...Array.from({ length: 8 }, (_, i) => `veil.keystore.v1:${gone}:${i + 1}`),
      ]);
      for (const f of filesUnder(backup.dir)) {
        assert.deepEqual(scanner.scan(f.read()), [], f.name);
        assert.ok(!f.read().includes(goneKey), f.name);
      }
    }
    await v.lifecycle.erase([gone], actors.system('test'), null);
    assert.ok(!(await matches(v, OBAMA[1]!)).includes(gone));
  } finally {
    await v.close();
  }

  const restored = await backup.restore();
  let url = databaseUrl;
  if ('url' in restored) {
    url = restored.url;
    // PostgreSQL: pg_restore'd into a database of its own, then `veil restore --replay-only`.
    const r = await open(dataDir, masterHex, url);
    try {
      assert.deepEqual((await r.backup.replayErasures(operator)).replayed, [gone]);
    } finally {
      await r.close();
    }
  } else {
    assert.deepEqual(restored.replayed, [gone]);
    assert.ok(restored.setAside && existsSync(join(restored.setAside, 'veil.db')), 'what was in place is kept aside');
  }

  v = await open(dataDir, masterHex, url);
  try {
    assert.deepEqual(await matches(v, OBAMA[1]!), [], 'identify finds nothing');
    assert.deepEqual(await matches(v, BIDEN), [kept], 'the others are all there');
    const row = await v.store.db.selectFrom('subjects').selectAll().where('id', '=', gone).executeTakeFirstOrThrow();
    assert.deepEqual([row.state, row.contact_sealed], ['erased', null]);
    const audit = await v.store.db
      .selectFrom('audit_entries')
      .select(['action', 'actor_kind', 'actor_id'])
      .where('subject_ids', 'like', `% ${gone} %`)
      .where('action', 'in', ['subject.erased', 'key.shredded'])
      .execute();
    assert.deepEqual(
      audit.map((a) => `${a.action} by ${a.actor_kind}:${a.actor_id}`).sort(),
      ['key.shredded by system:restore', 'subject.erased by system:restore'],
      'the restored log gets the erasure again, replayed on restore',
    );
    assert.equal(
      existsSync(join(dataDir, 'images', gone)),
      false,
      'the kept photo restored with the backup is gone again',
    );
    // Replaying again finds nothing more to do.
    assert.deepEqual((await v.backup.replayErasures(operator)).replayed, []);
  } finally {
    await v.close();
  }
});

test(
  'a restore refuses without the keystore, and while Veil has the database open',
  {
    skip: ENGINE === 'postgres' && 'veil restore DIR is for the embedded store',
  },
  async () => {
    const masterHex = randomBytes(32).toString('hex');
    const dataDir = tempDir('veil-restore-refuse-');
    const v = await open(dataDir, masterHex);
    const dir = join(tempDir('veil-backup-'), 'b');
    try {
      await v.backup.backup(operator, dir);
      const settings = loadSettings({ VEIL_DATA_DIR: dataDir, VEIL_MASTER_KEY: masterHex });
      await assert.rejects(restoreBackup(settings, dir, operator), /in use by another process/);
      const other = tempDir('veil-restore-empty-');
      await assert.rejects(restoreBackup({ ...settings, dataDir: other }, dir, operator), /No keystore/);
      // Another installation, even one sharing the master key: refused before its data is set aside.
      await (await open(other, masterHex)).close();
      const before = readFileSync(join(other, 'veil.db'));
      await assert.rejects(restoreBackup({ ...settings, dataDir: other }, dir, operator), {
        code: 'INVALID_INPUT',
        message: /backup of another installation/,
      });
      assert.deepEqual(readFileSync(join(other, 'veil.db')), before, 'the refused restore changed the database');
      assert.deepEqual(
        readdirSync(other).filter((f) => f.startsWith('replaced-')),
        [],
        'something was set aside',
      );
      writeFileSync(join(dir, 'veil.db'), Buffer.concat([readFileSync(join(dir, 'veil.db')), Buffer.from('x')]));
    } finally {
      await v.close();
    }
    await assert.rejects(
      restoreBackup(loadSettings({ VEIL_DATA_DIR: dataDir, VEIL_MASTER_KEY: masterHex }), dir, operator),
      /differs from the manifest/,
    );
  },
);

test(`a ${ENGINE} backup restored after a consent withdrawal, a removal and a restriction does not undo them; a later re-enrollment stays`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-journal-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  const JON = 'face_recognition/kit_harington/knn_train_kit_harington_john1.jpeg';
  const ROSE = 'face_recognition/rose_leslie/knn_train_rose_leslie_img1.jpg';
  let withdrawn: string, restricted: SubjectId, removed: SubjectId, back: SubjectId, backup;
  try {
    const members = await membersPurpose(v);
    const given = await v.consents.give(operator, {
      purpose: 'members',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
    });
    withdrawn = given.consent.id;
    await v.gallery.enroll(operator, { purpose: 'members', consentId: withdrawn, images: [face(OBAMA[0]!)] });
    restricted = await enroll(v, BIDEN);
    removed = await enroll(v, JON);
    back = await enroll(v, ROSE);
    // Removed and enrolled again before the backup: the backup holds the later enrollment.
    await v.lifecycle.removePurpose(back, members, operator, { reason: 'unenrolled', note: 'test' });
    const again = await v.consents.give(operator, {
      purpose: 'members',
      subjectId: back,
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
    });
    await v.gallery.enroll(operator, { purpose: 'members', consentId: again.consent.id, images: [face(ROSE)] });
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    await v.consents.withdraw(operator, withdrawn);
    await v.subjects.setRestricted(operator, restricted, true, 'contested');
    await v.lifecycle.removePurpose(removed, members, operator, { reason: 'unenrolled', note: 'test' });
    for (const p of [OBAMA[1]!, BIDEN, JON]) assert.deepEqual(await matches(v, p), [], p);
  } finally {
    await v.close();
  }
  const { url, journal: report } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.deepEqual(report, {
    purposesRemoved: 2,
    consentsWithdrawn: 1,
    restrictions: 1,
    suspensions: 0,
    settings: 0,
    settingsInvalid: [],
    templatesRemoved: 0,
    suppressionsAdded: 0,
    suppressionsLost: [],
  });

  v = await open(dataDir, masterHex, url);
  try {
    for (const p of [OBAMA[1]!, BIDEN, JON])
      assert.deepEqual(await matches(v, p), [], `${p} matches after the restore`);
    assert.deepEqual(await matches(v, ROSE), [back], 'the enrollment made after the removal, before the backup, stays');
    assert.equal((await v.consents.get(operator, withdrawn)).state, 'withdrawn');
    assert.equal((await v.subjects.get(operator, restricted)).state, 'restricted');
    const replayed = await v.store.db
      .selectFrom('audit_entries')
      .select(['action'])
      .where('actor_id', '=', 'restore')
      .execute();
    assert.deepEqual(replayed.map((a) => a.action).sort(), [
      'consent.withdrawn',
      'enrollment.removed',
      'subject.restricted',
      'template.removed',
      'template.removed',
    ]);
    // Replaying again changes nothing.
    assert.deepEqual((await v.backup.replayErasures(operator)).journal, {
      purposesRemoved: 0,
      consentsWithdrawn: 0,
      restrictions: 0,
      suspensions: 0,
      settings: 0,
      settingsInvalid: [],
      templatesRemoved: 0,
      suppressionsAdded: 0,
      suppressionsLost: [],
    });
  } finally {
    await v.close();
  }
});

// A purpose suspended (by its DPO, or on a supervisory authority's order) after the backup: the
// restored database says active, and nothing but the journal remembers the suspension.
test(`a ${ENGINE} backup restored after a purpose was suspended does not resume it`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-suspend-');
  const { databaseUrl } = await engineOptions();
  const dpo = keyActor('dpo', '*');
  let v = await open(dataDir, masterHex, databaseUrl);
  let backup;
  try {
    await membersPurpose(v);
    const who = await enroll(v, OBAMA[0]!);
    assert.deepEqual(await matches(v, OBAMA[1]!), [who]);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    await v.purposes.setSuspended(dpo, 'members', true, 'order 12/2026 of the supervisory authority');
    await assert.rejects(matches(v, OBAMA[1]!), { code: 'PURPOSE_SUSPENDED' });
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.equal(journal.suspensions, 1);
  v = await open(dataDir, masterHex, url);
  try {
    await assert.rejects(matches(v, OBAMA[1]!), { code: 'PURPOSE_SUSPENDED' }, 'the restore resumed the purpose');
    assert.equal((await v.backup.replayErasures(operator)).journal.suspensions, 0, 'a replay again changes nothing');
  } finally {
    await v.close();
  }
});

// Processes' clocks differ: the removal ran in one whose clock is behind the one that enrolled (or in
// the same millisecond). Judged by the template's createdAt against the removal's time, the removed
// template looked like a later enrollment and came back matchable with the restore.
test(`a ${ENGINE} backup restored after a removal timed by a clock behind the enrollment's does not undo it`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-skew-');
  const { databaseUrl } = await engineOptions();
  const clock = new ManualClock('2026-03-01T12:00:00.000Z');
  let v = await open(dataDir, masterHex, databaseUrl, clock);
  let backup, members;
  try {
    members = await membersPurpose(v);
    const who = await enroll(v, OBAMA[0]!);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    clock.advance(-2_000);
    await v.lifecycle.removePurpose(who, members, operator, { reason: 'unenrolled', note: 'test' });
    assert.deepEqual(await matches(v, OBAMA[1]!), []);
  } finally {
    await v.close();
  }
  const { url } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl, clock);
  v = await open(dataDir, masterHex, url, clock);
  try {
    assert.deepEqual(await matches(v, OBAMA[1]!), [], 'the removed person matches after the restore');
  } finally {
    await v.close();
  }
});

// Rectification (Art. 16) and a client's deletion of one face remove a template that was not the
// person's (a photo of someone else): restored, that other person would match as them again.
test(`a ${ENGINE} backup restored after a rectification does not bring back the template removed`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-rectify-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  let backup;
  try {
    await membersPurpose(v);
    const who = await enroll(v, OBAMA[0]!);
    const [t] = await v.store.db.selectFrom('templates').select('id').where('subject_id', '=', who).execute();
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    await v.lifecycle.removeTemplates(who, [t!.id as TemplateId], operator, { reason: 'rectification' });
    assert.deepEqual(await matches(v, OBAMA[1]!), []);
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.equal(journal.templatesRemoved, 1);
  v = await open(dataDir, masterHex, url);
  try {
    assert.deepEqual(await matches(v, OBAMA[1]!), [], 'the template removed matches after the restore');
    assert.equal(
      (await v.backup.replayErasures(operator)).journal.templatesRemoved,
      0,
      'a replay again changes nothing',
    );
  } finally {
    await v.close();
  }
});

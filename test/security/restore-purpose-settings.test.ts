import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Veil } from '../../src/app/veil.js';
import { JOURNAL_FILE } from '../../src/privacy/restore-journal.js';
import { operator } from '../gallery/fixture.js';
import { keyActor } from '../../support/actors.js';
import { ENGINE, engineOptions, tempDir } from '../helpers.js';
import { OBAMA, backUpAndRestoreLater, enroll, membersPurpose, open, restoreAndReplay } from './restore-fixture.js';

// A purpose's FPIR target and confirmation count are in its row: tightened after a backup, a restore
// put the looser values of the backup back, and nothing remembered the tightening.

const admin = keyActor('admin', '*');
const settings = async (v: Veil) => {
  const p = await v.purposes.get(operator, 'members');
  return { fpir: p.fpir, confirmations: p.confirmations };
};

async function withBackup(change: (v: Veil, dataDir: string) => Promise<void>) {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-settings-');
  const { databaseUrl } = await engineOptions();
  const v = await open(dataDir, masterHex, databaseUrl);
  let backup;
  try {
    await membersPurpose(v);
    await enroll(v, OBAMA[0]!);
    assert.deepEqual(await settings(v), { fpir: 0.01, confirmations: 0 });
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    await change(v, dataDir);
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  const w = await open(dataDir, masterHex, url);
  return { w, journal };
}

test(`a ${ENGINE} backup restored after a purpose's FPIR target and confirmation count were tightened keeps them tight; the last change wins`, async () => {
  const { w, journal } = await withBackup(async (v) => {
    await v.purposes.setFpir(admin, 'members', 0.001);
    await v.purposes.setConfirmations(admin, 'members', { confirmations: 2, reason: 'two-person rule' });
    // Loosened again, though less than the backup's: the last value set is the present one.
    await v.purposes.setFpir(admin, 'members', 0.005);
  });
  try {
    assert.equal(journal.settings, 2);
    assert.deepEqual(await settings(w), { fpir: 0.005, confirmations: 2 }, 'the restore loosened the purpose');
    const audit = await w.store.db
      .selectFrom('audit_entries')
      .select(['action'])
      .where('actor_id', '=', 'restore')
      .where('action', '=', 'purpose.updated')
      .execute();
    assert.equal(audit.length, 2);
    assert.equal((await w.backup.replayErasures(operator)).journal.settings, 0, 'a replay again changes nothing');
  } finally {
    await w.close();
  }
});

// A loosening counts only once confirmed after its commit: a crash between the two (its `confirmed`
// line never written) leaves the restore with the tighter value, never the looser one.
test(`${ENGINE}: a purpose's setting loosened without its confirmation line is restored at the tighter value`, async () => {
  const { w, journal } = await withBackup(async (v, dataDir) => {
    await v.purposes.setFpir(admin, 'members', 0.001);
    await v.purposes.setConfirmations(admin, 'members', { confirmations: 3, reason: 'three-person rule' });
    await v.purposes.setFpir(admin, 'members', 0.02);
    await v.purposes.setConfirmations(admin, 'members', { confirmations: 1, reason: 'fewer staff' });
    const path = join(dataDir, JOURNAL_FILE);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const kinds = lines.map((l) => (JSON.parse(l) as { kind: string }).kind);
    assert.deepEqual(kinds, [
      'purpose-setting',
      'purpose-setting',
      'purpose-setting',
      'confirmed',
      'purpose-setting',
      'confirmed',
    ]);
    writeFileSync(path, lines.filter((_, i) => kinds[i] !== 'confirmed').join('\n') + '\n');
  });
  try {
    assert.equal(journal.settings, 2);
    assert.deepEqual(await settings(w), { fpir: 0.001, confirmations: 3 });
  } finally {
    await w.close();
  }
});

// The journal is a file: a line with a value no purpose may have (damaged, or written by hand) is
// reported and left out; it must not stop the restore, whose other lines still apply.
test(`${ENGINE}: a purpose-setting line with an impossible value is reported, not applied, and the restore goes on`, async () => {
  const { w, journal } = await withBackup(async (v, dataDir) => {
    await v.purposes.setConfirmations(admin, 'members', { confirmations: 2, reason: 'two-person rule' });
    await v.purposes.setFpir(admin, 'members', 0.001);
    const path = join(dataDir, JOURNAL_FILE);
    const lines = readFileSync(path, 'utf8').split('\n').filter(Boolean);
    const fpirLine = lines.findIndex((l) => (JSON.parse(l) as { setting?: string }).setting === 'fpir');
    lines[fpirLine] = JSON.stringify({ ...(JSON.parse(lines[fpirLine]!) as object), to: 7 });
    writeFileSync(path, lines.join('\n') + '\n');
  });
  try {
    assert.equal(journal.settings, 1);
    assert.equal(journal.settingsInvalid.length, 1);
    assert.match(journal.settingsInvalid[0]!, / fpir$/);
    assert.deepEqual(await settings(w), { fpir: 0.01, confirmations: 2 });
  } finally {
    await w.close();
  }
});

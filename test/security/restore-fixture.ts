import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { loadSettings } from '../../src/config/settings.js';
import { restoreBackup } from '../../src/ops/restore.js';
import type { ManualClock } from '../../src/clock.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import type { JournalReplay } from '../../src/ops/restore-replay.js';
import type { ReplayReport } from '../../src/ops/backup.service.js';
import type { Mailer } from '../../src/rights/mailer.js';
import { engine, NOTICE, operator } from '../gallery/fixture.js';
import { createDatabase, face, tempDir } from '../helpers.js';

// What the backup and restore tests share: a Veil on a data directory and master key of the test's,
// a backup by the engine's own tools, and the restore with its replay.

export const BIDEN = 'face_recognition/biden/test_biden.jpg';
export const OBAMA = ['face_recognition/obama/test_obama.jpg', 'face_recognition/obama/test_obama2.jpg'];
const why = { justification: 'restore test' };

export async function open(
  dataDir: string,
  masterHex: string,
  databaseUrl?: string,
  clock?: ManualClock,
  mailer?: Mailer,
  /** Opened for a restore's replay (veil restore --replay-only). */
  restoring = false,
): Promise<Veil> {
  return openVeil({
    ...(clock ? { clock } : {}),
    ...(mailer ? { mailer } : {}),
    ...(restoring ? { restoring } : {}),
    dataDir,
    engine: await engine(),
    env: { VEIL_MASTER_KEY: masterHex },
    controller: 'Test Controller',
    ...(databaseUrl ? { databaseUrl } : {}),
  });
}

export async function enroll(v: Veil, photo: string): Promise<SubjectId> {
  const { consent } = await v.consents.give(operator, {
    purpose: 'members',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'test',
  });
  const r = await v.gallery.enroll(operator, { purpose: 'members', consentId: consent.id, images: [face(photo)] });
  return r.subjectId as SubjectId;
}

export const matches = async (v: Veil, photo: string) =>
  (await v.search.identify(operator, { purpose: 'members', image: face(photo), ...why })).candidates.map(
    (c) => c.subjectId,
  );

/** A copy of the database from before the erasure, put back after it, by this engine's tools. */
export async function backUpAndRestoreLater(
  v: Veil,
  dataDir: string,
  masterHex: string,
  databaseUrl: string | undefined,
) {
  if (!databaseUrl) {
    const dir = join(tempDir('veil-backup-'), 'b');
    const m = await v.backup.backup(operator, dir);
    return {
      dir,
      manifest: m,
      // The master key in use at the restore: another one after a rotation since the backup.
      restore: (hex = masterHex, previousKey?: Buffer) =>
        restoreBackup(
          loadSettings({ VEIL_DATA_DIR: dataDir, VEIL_MASTER_KEY: hex }),
          dir,
          operator,
          previousKey ? { previousKey } : {},
        ),
    };
  }
  await assert.rejects(v.backup.backup(operator, tempDir()), { code: 'INVALID_STATE' });
  const dump = join(tempDir('veil-pgdump-'), 'dump.sql');
  writeFileSync(dump, execFileSync('pg_dump', ['--no-owner', '--no-privileges', databaseUrl]));
  return {
    dir: null,
    manifest: null,
    restore: async () => {
      const url = await createDatabase(process.env['VEIL_TEST_PG_URL']!);
      execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', '-f', dump, url], { stdio: 'pipe' });
      return { url };
    },
  };
}

/** The purpose the journal tests enroll under (no kept photos); its id. */
export async function membersPurpose(v: Veil): Promise<PurposeId> {
  await v.purposes.create(operator, {
    key: 'members',
    name: 'Members',
    description: 'Members check in by face.',
    lawfulBasis: 'consent',
  });
  return (await v.purposes.list(operator)).find((p) => p.key === 'members')!.id as PurposeId;
}

/**
 * Puts the backup back and replays what happened since (on PostgreSQL, `veil restore --replay-only`
 * after the dump is loaded): the database to open next, and what the journal's replay did.
 */
export async function restoreAndReplay(
  backup: Awaited<ReturnType<typeof backUpAndRestoreLater>>,
  dataDir: string,
  masterHex: string,
  databaseUrl: string | undefined,
  clock?: ManualClock,
  previousKey?: Buffer,
): Promise<{ url: string | undefined; journal: JournalReplay; resealed: ReplayReport['resealed'] }> {
  const restored = await backup.restore(masterHex, previousKey);
  if (!('url' in restored)) return { url: databaseUrl, journal: restored.journal, resealed: restored.resealed };
  const r = await open(dataDir, masterHex, restored.url, clock, undefined, true);
  try {
    const { journal, resealed } = await r.backup.replayErasures(operator, { previousKey });
    return { url: restored.url, journal, resealed };
  } finally {
    await r.close();
  }
}

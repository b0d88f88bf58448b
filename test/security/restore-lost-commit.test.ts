import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Veil } from '../../src/app/veil.js';
import { consentRepository } from '../../src/privacy/consent.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { keyActor } from '../../support/actors.js';
import { operator } from '../gallery/fixture.js';
import { ENGINE, engineOptions, tempDir } from '../helpers.js';
import {
  BIDEN,
  OBAMA,
  backUpAndRestoreLater,
  enroll,
  membersPurpose,
  open,
  restoreAndReplay,
} from './restore-fixture.js';

const ROSE = 'face_recognition/rose_leslie/knn_train_rose_leslie_img1.jpg';
const KIT = 'face_recognition/kit_harington/knn_train_kit_harington_john1.jpeg';

/**
 * Runs `change` with the store's next transaction committed and then reported failed, as PostgreSQL
 * does when the connection is lost at COMMIT; later transactions (the change's own clean-up) run as usual.
 */
async function lostAtCommit(v: Veil, change: () => Promise<unknown>): Promise<void> {
  const real = v.store.transaction;
  let first = true;
  v.store.transaction = (fn) => {
    if (!first) return real(fn);
    first = false;
    return real(fn).then(() => {
      throw new Error('connection lost at commit');
    });
  };
  try {
    await assert.rejects(change(), /connection lost at commit/);
  } finally {
    v.store.transaction = real;
  }
}

// A narrowing change whose commit its client saw fail, though the database committed it, must keep
// its journal line: cancelled, a restore from before it would forget a change that was made.
test(`${ENGINE}: narrowing changes committed though their commit was reported failed survive a restore`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-lost-commit-');
  const { databaseUrl } = await engineOptions();
  const dpo = keyActor('dpo', '*');
  const admin = keyActor('admin', '*');
  let v = await open(dataDir, masterHex, databaseUrl);
  let backup, rectified, withdrawn, restricted, unenrolled;
  try {
    const purpose = await membersPurpose(v);
    rectified = await enroll(v, OBAMA[0]!);
    withdrawn = await enroll(v, BIDEN);
    restricted = await enroll(v, ROSE);
    unenrolled = await enroll(v, KIT);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    const [template] = await subjectRepository.templates(v.store.db, { subjectId: rectified });
    const [consent] = await consentRepository.forSubject(v.store.db, withdrawn);
    const [a, c, d] = [rectified, restricted, unenrolled];
    const unenroll = { reason: 'unenrolled', note: 'left the club' } as const;
    const changes: [string, () => Promise<unknown>][] = [
      ['templates-removed', () => v.lifecycle.removeTemplates(a, [template!.id], operator, { reason: 'not them' })],
      ['purpose-removed', () => v.lifecycle.withdrawConsent(consent!, operator)],
      // A removal judged by the template ids it deleted, not by a consent.
      ['purpose-removed', () => v.lifecycle.removePurpose(d, purpose, operator, unenroll)],
      ['restriction', () => v.lifecycle.setRestricted(c, true, operator, 'contested accuracy')],
      ['purpose-status', () => v.purposes.setSuspended(dpo, purpose, true, 'order 12/2026')],
      ['purpose-setting', () => v.purposes.setFpir(admin, 'members', 0.001)],
    ];
    for (const [i, [kind, change]] of changes.entries()) {
      await lostAtCommit(v, change);
      assert.deepEqual(
        v.keyring.journal.read().map((e) => e.kind),
        changes.slice(0, i + 1).map(([k]) => k),
        `the ${kind} line was cancelled though its change committed`,
      );
    }
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: a }), [], 'committed');
    assert.equal((await subjectRepository.get(v.store.db, c))?.state, 'restricted', 'committed');
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.deepEqual(
    [
      journal.templatesRemoved,
      journal.consentsWithdrawn,
      journal.purposesRemoved,
      journal.restrictions,
      journal.suspensions,
      journal.settings,
    ],
    [1, 1, 2, 1, 1, 1],
  );
  v = await open(dataDir, masterHex, url);
  try {
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: rectified }), []);
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: withdrawn }), []);
    assert.deepEqual(await subjectRepository.templates(v.store.db, { subjectId: unenrolled }), []);
    assert.equal((await subjectRepository.get(v.store.db, restricted))?.state, 'restricted');
    assert.equal((await v.purposes.get(operator, 'members')).status, 'suspended');
    assert.equal((await v.purposes.get(operator, 'members')).fpir, 0.001);
  } finally {
    await v.close();
  }
});

// The other side: a narrowing change whose transaction did fail is not in the database, and its
// line is cancelled as before, so a restore does not apply a change that was never made.
test(`${ENGINE}: a narrowing change whose transaction failed leaves no line that counts`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-failed-');
  const { databaseUrl } = await engineOptions();
  const v = await open(dataDir, masterHex, databaseUrl);
  try {
    await membersPurpose(v);
    const who = await enroll(v, OBAMA[0]!);
    const real = v.store.transaction;
    let first = true;
    v.store.transaction = (fn) => {
      if (!first) return real(fn);
      first = false;
      return real(async (tx) => {
        await fn(tx);
        throw new Error('commit failed');
      });
    };
    try {
      await assert.rejects(v.lifecycle.setRestricted(who, true, operator, 'contested'), /commit failed/);
    } finally {
      v.store.transaction = real;
    }
    assert.equal((await subjectRepository.get(v.store.db, who))?.state, 'active');
    assert.deepEqual(v.keyring.journal.read(), []);
  } finally {
    await v.close();
  }
});

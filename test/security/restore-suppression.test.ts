import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Veil } from '../../src/app/veil.js';
import type { Store } from '../../src/store/store.js';
import { SuppressionList } from '../../src/gallery/suppression.js';
import { VeilError } from '../../src/errors.js';
import { JOURNAL_FILE, type JournalEntry } from '../../src/privacy/restore-journal.js';
import { MasterKey, open as openSealed } from '../../src/privacy/keys.js';
import { encodeLive } from '../../src/privacy/keystore-format.js';
import { MemoryMailer } from '../../support/memory-mailer.js';
import { NOTICE, operator } from '../gallery/fixture.js';
import { ENGINE, engineOptions, face, tempDir } from '../helpers.js';
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

// A do-not-enroll entry added after a backup is in no table of the backup: restored without the
// journal's line, the person who asked most clearly never to be enrolled again could be.

const SELFIE = 'face_recognition/obama/ex_obama-480p.jpg'; // one the liveness check passes
const ROSE = 'face_recognition/rose_leslie/knn_train_rose_leslie_img1.jpg';
const EMAIL = 'barack@example.org';
type Line = Extract<JournalEntry, { kind: 'suppression-added' }>;

/** Enrolled with a contact, then erased on their request with "never again": the entry's id. */
async function eraseNeverAgain(v: Veil, mail: MemoryMailer): Promise<string> {
  const { consent } = await v.consents.give(operator, {
    purpose: 'members',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'portal',
    collector: 'portal',
    contactEmail: EMAIL,
  });
  await v.gallery.enroll(operator, { purpose: 'members', consentId: consent.id, images: [face(OBAMA[0]!)] });
  const r = await v.rights.intake.submit({ kind: 'erasure', email: EMAIL });
  await v.rights.intake.verify(r.requestId, { code: mail.codeFor(EMAIL), selfies: [face(SELFIE)] });
  await v.rights.queue.review(operator, r.requestId, { decision: 'approve', note: 'selfie matches' });
  const out = await v.rights.queue.fulfil(operator, r.requestId, { suppress: true });
  return out.request.outcome!['suppressionId'] as string;
}

const enrollCode = (v: Veil, photo: string) =>
  enroll(v, photo).then(
    () => 'enrolled',
    (e: unknown) => (e instanceof VeilError ? e.code : Promise.reject(e)),
  );

function journalLine(dataDir: string, id: string): Line {
  const lines = readFileSync(join(dataDir, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean);
  const found = lines.map((l) => JSON.parse(l) as JournalEntry).filter((e) => e.kind === 'suppression-added');
  assert.equal(found.length, 1);
  assert.equal((found[0] as Line).suppressionId, id);
  return found[0] as Line;
}

/** The restore comes more than an hour after the erasure: the key's slot is as old as the start-up sweep's grace. */
async function ageSlot(v: Veil, slot: number): Promise<void> {
  const s = await v.keyring.keystore.read(slot);
  assert.equal(s.state, 'live');
  const old = Math.floor(Date.now() / 1000) - 7200;
  await v.keyring.keystore.write([{ slot, bytes: encodeLive(slot, s.owner, s.wrapped!, old) }]);
}

async function scenario(opts: { rotate?: boolean; destroy?: boolean }) {
  const masterHex = randomBytes(32).toString('hex');
  const nextHex = opts.rotate ? randomBytes(32).toString('hex') : masterHex;
  const dataDir = tempDir('veil-restore-sup-');
  const { databaseUrl } = await engineOptions();
  const mail = new MemoryMailer();
  const v = await open(dataDir, masterHex, databaseUrl, undefined, mail);
  let backup, id: string, line: Line, template: Buffer;
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    id = await eraseNeverAgain(v, mail);
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'the entry blocks before the restore');
    // A key made after the entry's: the restored counter must not hand its slot (or the entry's) out again.
    await enroll(v, ROSE);
    line = journalLine(dataDir, id);
    const key = await v.keyring.get(v.store.db, line.key.owner);
    template = openSealed(key, Buffer.from(line.sealed, 'base64'), `veil.suppression-journal:${id}`);
    await ageSlot(v, line.key.slot);
    if (opts.destroy) {
      await v.store.transaction((tx) => v.keyring.destroy(tx, line.key.owner));
      await v.keyring.shred(v.store);
    }
    if (opts.rotate) await v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(nextHex, 'hex') });
  } finally {
    await v.close();
  }
  return { masterHex: nextHex, dataDir, databaseUrl, backup, id, line, template };
}

async function assertBlockedAfterRestore(opts: { rotate?: boolean }) {
  const s = await scenario(opts);
  // The journal holds the template only sealed under the entry's own key: not in clear, and not
  // under the master key or any key derived from it.
  const file = readFileSync(join(s.dataDir, JOURNAL_FILE));
  assert.equal(s.template.length, 512 * 4);
  for (let at = 0; at + 16 <= s.template.length; at += 16)
    assert.equal(file.indexOf(s.template.subarray(at, at + 16)), -1, `template bytes ${at}.. in the journal`);
  assert.ok(!file.includes(s.template.toString('base64').slice(0, 24)));
  const master = MasterKey.fromBytes(Buffer.from(s.masterHex, 'hex'));
  const sealed = Buffer.from(s.line.sealed, 'base64');
  for (const k of [master.derive('suppression'), master.derive('restore-journal'), Buffer.from(s.masterHex, 'hex')])
    assert.throws(() => openSealed(k, sealed, `veil.suppression-journal:${s.id}`));

  const { url, journal } = await restoreAndReplay(s.backup, s.dataDir, s.masterHex, s.databaseUrl);
  assert.equal(journal.suppressionsAdded, 1);
  assert.deepEqual(journal.suppressionsLost, []);
  const v = await open(s.dataDir, s.masterHex, url, undefined, new MemoryMailer());
  try {
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'enrolled again after the restore');
    assert.equal((await matches(v, BIDEN)).length, 1, 'the others are all there');
    const audit = await v.store.db
      .selectFrom('audit_entries')
      .select(['action', 'body'])
      .where('actor_id', '=', 'restore')
      .where('action', '=', 'suppression.added')
      .execute();
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.body, new RegExp(s.id));
    // The entry's key is named again, and a new key goes past every slot the keystore holds.
    const highest = await v.keyring.keystore.highestSlot();
    const probe = await v.store.transaction((tx) => v.keyring.createSlot(tx, 'test:probe', '2026-12-02'));
    assert.ok(probe.slot > highest, `slot ${probe.slot} handed out again (keystore reaches ${highest})`);
    assert.ok(await v.keyring.get(v.store.db, s.line.key.owner));
    const again = (await v.backup.replayErasures(operator)).journal;
    assert.deepEqual([again.suppressionsAdded, again.suppressionsLost], [0, []], 'a replay again changes nothing');
  } finally {
    await v.close();
  }
}

test(`a ${ENGINE} backup restored after an erasure with "never again" still blocks that person`, () =>
  assertBlockedAfterRestore({}));

test(`a ${ENGINE} backup restored after an erasure with "never again" and a master key rotation still blocks that person`, () =>
  assertBlockedAfterRestore({ rotate: true }));

test(`a ${ENGINE} restore skips, and reports, a do-not-enroll line whose key was destroyed`, async () => {
  const s = await scenario({ destroy: true });
  const { url, journal } = await restoreAndReplay(s.backup, s.dataDir, s.masterHex, s.databaseUrl);
  assert.equal(journal.suppressionsAdded, 0);
  assert.deepEqual(journal.suppressionsLost, [s.id]);
  const v = await open(s.dataDir, s.masterHex, url, undefined, new MemoryMailer());
  try {
    const rows = await v.store.db.selectFrom('suppressions').select('id').execute();
    assert.deepEqual(rows, [], 'nothing is added from a line whose key is gone');
    assert.equal((await v.keyring.keystore.read(s.line.key.slot)).state, 'tombstone');
  } finally {
    await v.close();
  }
});

// The sweep spares only the keys of lines that count: an entry whose transaction failed after its
// line was written has its line cancelled, and its key is an orphan like any other.
test(`${ENGINE}: the key of a do-not-enroll entry whose transaction failed is swept, not kept for its cancelled line`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-sup-cancel-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  let slot: number;
  try {
    const failing: Store = {
      ...v.store,
      transaction: (fn) =>
        v.store.transaction(async (tx) => {
          await fn(tx);
          throw new Error('commit failed');
        }),
    };
    const list = new SuppressionList({ store: failing, audit: v.auditLog, keyring: v.keyring }, 0.5, 'm@1');
    const embedding = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i));
    await assert.rejects(list.add(operator, { embedding, model: 'm@1', reason: 'objection', at: '2026-12-02' }));
    const lines = readFileSync(join(dataDir, JOURNAL_FILE), 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(
      lines.map((l) => (JSON.parse(l) as { kind: string }).kind),
      ['suppression-added', 'cancelled'],
    );
    assert.equal(v.keyring.journal.read().length, 0);
    const live = (await v.keyring.keystore.readAll()).filter((s) => s.owner.startsWith('suppression:'));
    assert.equal(live.length, 1);
    slot = live[0]!.slot;
    await ageSlot(v, slot);
  } finally {
    await v.close();
  }
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    assert.equal((await v.keyring.keystore.read(slot)).state, 'tombstone');
  } finally {
    await v.close();
  }
});

// A line spares only its own entry's key (`suppression:<entry>`): one naming any other owner's slot
// (forged, or damaged) must not keep that key from the sweep, here the orphan key of a person.
test(`${ENGINE}: a do-not-enroll line naming another owner's key does not keep that key from the sweep`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-sup-forged-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  const owner = 'sub_forged0person';
  let slot = 0;
  try {
    // A person's key whose transaction rolled back: an orphan, as a restored database leaves the keys of people enrolled since.
    await assert.rejects(
      v.store.transaction(async (tx) => {
        slot = (await v.keyring.createSlot(tx, owner, '2026-12-02')).slot;
        throw new Error('rolled back');
      }),
    );
    await ageSlot(v, slot);
    const forged: Line = {
      kind: 'suppression-added',
      at: '2026-12-02',
      suppressionId: 'sup_forged',
      model: 'm@1',
      reason: 'objection',
      key: { owner, slot },
      sealed: '',
    };
    appendFileSync(join(dataDir, JOURNAL_FILE), JSON.stringify(forged) + '\n');
    assert.equal(v.keyring.journal.read().length, 1, 'the forged line counts as a line');
  } finally {
    await v.close();
  }
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    assert.equal((await v.keyring.keystore.read(slot)).state, 'tombstone', "another owner's key kept for a line");
  } finally {
    await v.close();
  }
});

// PostgreSQL can commit a transaction whose client then sees it fail (the connection lost at COMMIT).
// The entry is in the database and blocks; its line must still count, or a restore from before it
// forgets the entry, and reports nothing lost.
test(`${ENGINE}: a do-not-enroll entry committed though its commit was reported failed survives a restore`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-sup-ambiguous-');
  const { databaseUrl } = await engineOptions();
  const v = await open(dataDir, masterHex, databaseUrl);
  let backup;
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    const lostAtCommit: Store = {
      ...v.store,
      transaction: (fn) =>
        v.store.transaction(fn).then(() => {
          throw new Error('connection lost at commit');
        }),
    };
    const list = new SuppressionList({ store: lostAtCommit, audit: v.auditLog, keyring: v.keyring }, 0.5, 'm@1');
    const embedding = (await v.engine.analyze(face(SELFIE))).faces[0]!.embedding;
    const model = v.engine.modelId;
    await assert.rejects(list.add(operator, { embedding, model, reason: 'objection', at: '2026-12-02' }));
    assert.equal((await v.store.db.selectFrom('suppressions').select('id').execute()).length, 1, 'committed');
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED');
    assert.equal(v.keyring.journal.read().filter((e) => e.kind === 'suppression-added').length, 1, 'line cancelled');
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.deepEqual([journal.suppressionsAdded, journal.suppressionsLost], [1, []]);
  const w = await open(dataDir, masterHex, url, undefined, new MemoryMailer());
  try {
    assert.equal(await enrollCode(w, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'enrolled again after the restore');
  } finally {
    await w.close();
  }
});

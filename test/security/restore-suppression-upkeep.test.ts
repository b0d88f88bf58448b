import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { Veil } from '../../src/app/veil.js';
import type { Store } from '../../src/store/store.js';
import { SuppressionList } from '../../src/gallery/suppression.js';
import { suppressionRepository } from '../../src/gallery/suppression.repository.js';
import { VeilError } from '../../src/errors.js';
import { JOURNAL_FILE, type JournalEntry } from '../../src/privacy/restore-journal.js';
import { bytesVector, open as openSealed, seal, vectorBytes } from '../../src/privacy/keys.js';
import { encodeLive } from '../../src/privacy/keystore-format.js';
import { faceDataIn } from '../../support/face-data-scan.js';
import { operator } from '../gallery/fixture.js';
import { ENGINE, engineOptions, face, tempDir } from '../helpers.js';
import {
  BIDEN,
  OBAMA,
  backUpAndRestoreLater,
  enroll,
  membersPurpose,
  open,
  restoreAndReplay,
} from './restore-fixture.js';

// The start-up's part in keeping do-not-enroll entries and the restore journal together: entries
// from before their lines were written get one, and a line whose transaction never committed (a
// crash) is applied, so the journal never holds a template the database does not.

const SELFIE = 'face_recognition/obama/ex_obama-480p.jpg';
type Line = Extract<JournalEntry, { kind: 'suppression-added' }>;

const enrollCode = (v: Veil, photo: string) =>
  enroll(v, photo).then(
    () => 'enrolled',
    (e: unknown) => (e instanceof VeilError ? e.code : Promise.reject(e)),
  );
const lines = (dataDir: string): (JournalEntry | { kind: 'cancelled' })[] =>
  (existsSync(join(dataDir, JOURNAL_FILE)) ? readFileSync(join(dataDir, JOURNAL_FILE), 'utf8') : '')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as JournalEntry);
const suppressionLines = (dataDir: string) => lines(dataDir).filter((e): e is Line => e.kind === 'suppression-added');

/** Older than the sweep's grace: the start that comes more than an hour after. */
async function ageSlot(v: Veil, slot: number): Promise<void> {
  const s = await v.keyring.keystore.read(slot);
  await v.keyring.keystore.write([{ slot, bytes: encodeLive(slot, s.owner, s.wrapped!, Date.now() / 1000 - 7200) }]);
}

/**
 * Two starts on PostgreSQL that reach the entry's line at once: its row is held locked until both
 * wait for it, so neither can have finished before the other looks.
 */
async function startsMeeting(url: string, id: string, start: () => Promise<Veil>): Promise<Veil[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query('begin');
    await c.query('select id from suppressions where id = $1 for update', [id]);
    const both = [start(), start()];
    const failed = Promise.all(both).then(
      () => false,
      () => true,
    );
    // Read afresh each time: in a transaction, the server keeps the first reading of pg_stat_activity.
    const waiting = async () => {
      await c.query('select pg_stat_clear_snapshot()');
      const r = await c.query<{ n: number }>(
        "select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'",
      );
      return r.rows[0]!.n;
    };
    while ((await waiting()) < 2 && !(await Promise.race([failed, sleep(50).then(() => false)]))) continue;
    await c.query('commit');
    // A start that failed leaves the other's open: closed here, or the test would wait for its timeout.
    const settled = await Promise.allSettled(both);
    const opened = settled.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (!failure) return opened;
    await Promise.all(opened.map((w) => w.close()));
    throw failure.reason;
  } finally {
    await c.end();
  }
}

test(`${ENGINE}: a do-not-enroll entry from before its line was written gets one at start-up, and a restore from before it keeps it`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-sup-lines-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  let backup, template: Float32Array;
  const id = 'sup_fromanolderversion';
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    backup = await backUpAndRestoreLater(v, dataDir, masterHex, databaseUrl);
    // What an older version left: the entry, under the derived key, with no line and no key of its own.
    template = (await v.engine.analyze(face(SELFIE))).faces[0]!.embedding;
    const sealed = seal(v.master.derive('suppression'), vectorBytes(template), `veil.suppression:${id}`);
    const at = '2026-11-01T00:00:00.000Z';
    await suppressionRepository.insert(v.store.db, { id, model: v.engine.modelId, sealed, reason: 'objection', at });
    await v.store.db.deleteFrom('keystore_state').where('name', '=', 'suppression-lines-written').execute();
    assert.deepEqual(suppressionLines(dataDir), []);
  } finally {
    await v.close();
  }
  // The upgrade's first start, by two processes at once: one line, one key. (On SQLite, BEGIN
  // IMMEDIATE runs them one after the other; two connections of one Node process would wait on each
  // other's lock synchronously.)
  const start = () => open(dataDir, masterHex, databaseUrl);
  const both = databaseUrl ? await startsMeeting(databaseUrl, id, start) : [await start(), await start()];
  await Promise.all(both.map((w) => w.close()));
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    const written = suppressionLines(dataDir);
    assert.equal(written.length, 1, 'one line, written once');
    const line = written[0]!;
    assert.equal(line.suppressionId, id);
    assert.equal((await v.keyring.keystore.readAll()).filter((s) => s.owner === line.key.owner).length, 1);
    const key = await v.keyring.get(v.store.db, line.key.owner);
    const opened = bytesVector(openSealed(key, Buffer.from(line.sealed, 'base64'), `veil.suppression-journal:${id}`));
    assert.deepEqual(opened, template);
  } finally {
    await v.close();
  }
  const { url, journal } = await restoreAndReplay(backup, dataDir, masterHex, databaseUrl);
  assert.deepEqual([journal.suppressionsAdded, journal.suppressionsLost], [1, []]);
  v = await open(dataDir, masterHex, url);
  try {
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'enrolled again after the restore');
  } finally {
    await v.close();
  }
});

// A crash after the line was written and before the commit: the entry the person asked for counts
// (a narrowing change counts from its line on), so the start-up adds it, through the replay's code.
test(`${ENGINE}: a do-not-enroll line whose transaction never committed is applied by the next start`, async () => {
  const masterHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-sup-crash-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, masterHex, databaseUrl);
  let line: Line;
  try {
    await membersPurpose(v);
    const crashed: Store = {
      ...v.store,
      transaction: (fn) =>
        v.store.transaction(async (tx) => {
          await fn(tx);
          throw new Error('crash before commit');
        }),
    };
    const list = new SuppressionList({ store: crashed, audit: v.auditLog, keyring: v.keyring }, 0.5, 'm@1');
    const embedding = (await v.engine.analyze(face(SELFIE))).faces[0]!.embedding;
    const model = v.engine.modelId;
    await assert.rejects(list.add(operator, { embedding, model, reason: 'objection', at: '2026-12-02' }));
    // The process died there: its cancellation was never written.
    const file = join(dataDir, JOURNAL_FILE);
    const kept = lines(dataDir).filter((e) => e.kind !== 'cancelled');
    writeFileSync(file, kept.map((e) => JSON.stringify(e) + '\n').join(''));
    line = suppressionLines(dataDir)[0]!;
    assert.deepEqual(await v.store.db.selectFrom('suppressions').select('id').execute(), []);
  } finally {
    await v.close();
  }
  // A start within the hour: the transaction may still be running elsewhere. Nothing is added, and
  // the key is kept for it.
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    assert.deepEqual(await v.store.db.selectFrom('suppressions').select('id').execute(), []);
    assert.equal((await v.keyring.keystore.read(line.key.slot)).state, 'live');
    await ageSlot(v, line.key.slot);
  } finally {
    await v.close();
  }
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    assert.ok(await suppressionRepository.has(v.store.db, line.suppressionId), 'the entry asked for is there');
    assert.ok(await v.keyring.get(v.store.db, line.key.owner), 'its key is named');
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED');
    const audit = await v.store.db
      .selectFrom('audit_entries')
      .select(['actor_id', 'body'])
      .where('action', '=', 'suppression.added')
      .execute();
    assert.deepEqual(
      audit.map((a) => a.actor_id),
      ['restore-journal'],
    );
    // By shape, not by words: the entry names the entry and why, and holds nothing like a template.
    const detail = (JSON.parse(audit[0]!.body) as { detail: Record<string, unknown> }).detail;
    assert.deepEqual(Object.keys(detail).sort(), ['note', 'suppressionId']);
    assert.deepEqual(faceDataIn({ detail, notices: v.notices }), []);
  } finally {
    await v.close();
  }
  // Settled: the next start finds nothing to do, and the key is kept for the line as any entry's.
  v = await open(dataDir, masterHex, databaseUrl);
  try {
    assert.equal((await v.store.db.selectFrom('suppressions').select('id').execute()).length, 1);
    assert.equal((await v.keyring.keystore.read(line.key.slot)).state, 'live');
  } finally {
    await v.close();
  }
});

// A backup from before the upgrade holds entries without lines, sealed under the master key of its
// day. After a rotation, the restore opens Veil on it before its replay seals them again under the
// current key: the start-up must not try to write their lines then (they do not open yet), or the
// restore fails after putting the backup in place, and so does every start after it.
test(`${ENGINE}: a backup from before the lines and before a master rotation is restored with the old key, its entry kept`, async () => {
  const [oldHex, newHex] = [randomBytes(32).toString('hex'), randomBytes(32).toString('hex')];
  const dataDir = tempDir('veil-sup-lines-rot-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, oldHex, databaseUrl);
  let backup;
  const id = 'sup_beforelinesrotate';
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    const template = (await v.engine.analyze(face(SELFIE))).faces[0]!.embedding;
    const sealed = seal(v.master.derive('suppression'), vectorBytes(template), `veil.suppression:${id}`);
    const at = '2026-11-01T00:00:00.000Z';
    await suppressionRepository.insert(v.store.db, { id, model: v.engine.modelId, sealed, reason: 'objection', at });
    await v.store.db.deleteFrom('keystore_state').where('name', '=', 'suppression-lines-written').execute();
    backup = await backUpAndRestoreLater(v, dataDir, oldHex, databaseUrl);
  } finally {
    await v.close();
  }
  // The upgrade's first start writes the entry's line; then the master key is rotated.
  v = await open(dataDir, oldHex, databaseUrl);
  try {
    assert.equal(suppressionLines(dataDir).length, 1);
    await v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(newHex, 'hex') });
  } finally {
    await v.close();
  }
  const { url, resealed } = await restoreAndReplay(
    backup,
    dataDir,
    newHex,
    databaseUrl,
    undefined,
    Buffer.from(oldHex, 'hex'),
  );
  assert.equal(resealed?.counts.suppressions, 1);
  v = await open(dataDir, newHex, url);
  try {
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'enrolled again after the restore');
    assert.ok(await v.keyring.get(v.store.db, suppressionLines(dataDir).at(-1)!.key.owner), 'its line has a key');
  } finally {
    await v.close();
  }
});

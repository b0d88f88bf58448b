import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { VeilError } from '../../src/errors.js';
import type { RestoreReport } from '../../src/ops/restore.js';
import { BACKUP_DIRS, copyTree } from '../../src/ops/backup.service.js';
import { MasterKey } from '../../src/privacy/keys.js';
import { ContactSecrets } from '../../src/privacy/contact-secrets.js';
import { openStore, type Store } from '../../src/store/store.js';
import { JOURNAL_FILE } from '../../src/privacy/restore-journal.js';
import { engine, operator } from '../gallery/fixture.js';
import { ENGINE, engineOptions, face, tempDir } from '../helpers.js';
import { MemoryMailer } from '../../support/memory-mailer.js';
import { BIDEN, OBAMA, backUpAndRestoreLater, enroll, matches, membersPurpose, open } from './restore-fixture.js';

// A backup holds data sealed under keys derived from the master key in use when it was taken (here a
// do-not-enroll entry). After `veil keys rotate-master` the installation's key derives other keys, and
// the keystore (never in a backup) is under the new one: restored as it was, every enrollment failed
// with KEY_DESTROYED. The restore needs the old key to seal that data again, and refuses without it.

const ROSE = 'face_recognition/rose_leslie/knn_train_rose_leslie_img1.jpg';

const enrollCode = (v: Veil, photo: string) =>
  enroll(v, photo).then(
    () => 'enrolled',
    (e: unknown) => (e instanceof VeilError ? e.code : Promise.reject(e)),
  );

const key = (hex: string) => MasterKey.fromBytes(Buffer.from(hex, 'hex'));

/** A do-not-enroll entry and one person in the backup. */
async function withSuppression(v: Veil): Promise<void> {
  const embedding = (await v.engine.analyze(face(OBAMA[0]!))).faces[0]!.embedding;
  await v.suppression.add(operator, { embedding, model: v.engine.modelId, reason: 'objection', at: '2026-12-02' });
  assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED');
}

/** What `populate` seals under derived keys in the backup; the master key rotated after it. */
async function scenario(populate: (v: Veil) => Promise<void> = withSuppression) {
  const oldHex = randomBytes(32).toString('hex');
  const newHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-rot-');
  const files = tempDir('veil-restore-rot-files-');
  const { databaseUrl } = await engineOptions();
  const v = await open(dataDir, oldHex, databaseUrl, undefined, new MemoryMailer());
  let backup;
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    await populate(v);
    backup = await backUpAndRestoreLater(v, dataDir, oldHex, databaseUrl);
    // On PostgreSQL the sealed files are copied beside the dump (docs/deploy.md), and back after it.
    for (const d of BACKUP_DIRS) copyTree(join(dataDir, d), join(files, d));
    await v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(newHex, 'hex') });
  } finally {
    await v.close();
  }
  return { oldHex, newHex, dataDir, databaseUrl, backup, files };
}

/** What the installation holds outside the database, and the database file on SQLite: a refusal changes none of it. */
function snapshot(dataDir: string, databaseUrl: string | undefined) {
  const hash = (p: string) =>
    createHash('sha256')
      .update(readFileSync(join(dataDir, p)))
      .digest('hex');
  return {
    entries: readdirSync(dataDir).sort(),
    keystore: hash('keys/subject-keys.slots'),
    journal: readdirSync(join(dataDir, 'keys')).includes('restore-journal.jsonl') ? hash(JOURNAL_FILE) : null,
    db: databaseUrl ? null : hash('veil.db'),
  };
}

async function assertBlocksAndWorks(dataDir: string, hex: string, url: string | undefined) {
  const v = await open(dataDir, hex, url);
  try {
    assert.equal(await enrollCode(v, OBAMA[1]!), 'SUBJECT_SUPPRESSED', 'the do-not-enroll entry opens and blocks');
    assert.equal(await enrollCode(v, ROSE), 'enrolled', 'anyone else enrolls');
    assert.equal((await matches(v, BIDEN)).length, 1);
    const audit = await v.store.db
      .selectFrom('audit_entries')
      .select(['body'])
      .where('actor_id', '=', 'restore')
      .where('action', '=', 'key.master.resealed')
      .execute();
    assert.equal(audit.length, 1);
    assert.match(audit[0]!.body, new RegExp(key(hex).id));
  } finally {
    await v.close();
  }
}

/** Restores the backup by the engine's tools: `veil restore DIR`, or a dump loaded and `veil restore --replay-only`. */
async function restore(s: Awaited<ReturnType<typeof scenario>>, previous?: Buffer, url?: string) {
  if (!s.databaseUrl) return { url: undefined, report: (await s.backup.restore(s.newHex, previous)) as RestoreReport };
  const db = url ?? ((await s.backup.restore()) as { url: string }).url;
  const v = await open(s.dataDir, s.newHex, db);
  try {
    return { url: db, report: await v.backup.replayErasures(operator, { previousKey: previous }) };
  } finally {
    await v.close();
  }
}

test(`${ENGINE}: a backup taken before a master key rotation is refused without the old key, before anything changes, and restored with it`, async () => {
  const s = await scenario();
  const before = snapshot(s.dataDir, s.databaseUrl);
  const url = s.databaseUrl ? ((await s.backup.restore()) as { url: string }).url : undefined;
  const refused = (e: unknown) =>
    e instanceof VeilError && e.code === 'MASTER_KEY_INVALID' && /--previous-master-key FILE/.test(e.message);
  await assert.rejects(restore(s, undefined, url), refused);
  assert.deepEqual(snapshot(s.dataDir, s.databaseUrl), before, 'a refused restore changed the installation');
  await assert.rejects(restore(s, randomBytes(32), url), {
    code: 'MASTER_KEY_INVALID',
    message: /is not the one/,
  });
  assert.deepEqual(snapshot(s.dataDir, s.databaseUrl), before);
  if (url) {
    const v = await open(s.dataDir, s.newHex, url);
    try {
      const n = await v.store.db.selectFrom('audit_entries').select('seq').where('actor_id', '=', 'restore').execute();
      assert.deepEqual(n, [], 'the refused replay changed the restored database');
    } finally {
      await v.close();
    }
  }

  const { url: restored, report } = await restore(s, Buffer.from(s.oldHex, 'hex'), url);
  assert.equal(report.resealed?.from, key(s.oldHex).id);
  assert.equal(report.resealed?.counts.suppressions, 1);
  assert.equal(report.resealed?.unreadable, 0);
  await assertBlocksAndWorks(s.dataDir, s.newHex, restored);
  if (restored) {
    // The replay again, as after a crash: the data opens under the current key, nothing is moved
    // (the named old key is tried all the same: the probe cannot see a mix inside one kind).
    const again = await restore(s, Buffer.from(s.oldHex, 'hex'), restored);
    assert.deepEqual(
      Object.values(again.report.resealed?.counts ?? { none: -1 }).filter((n) => n !== 0),
      [],
      'a second replay moved data again',
    );
    assert.equal(again.report.resealed?.unreadable, 0);
  }
});

test(`${ENGINE}: a backup taken and restored under the same master key needs no other key`, async () => {
  const s = await scenario();
  // Put the old key back in place of the new one: the rotation undone, as far as this backup is concerned.
  const v = await open(s.dataDir, s.newHex, s.databaseUrl);
  try {
    await v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(s.oldHex, 'hex') });
  } finally {
    await v.close();
  }
  const r = s.databaseUrl
    ? await (async () => {
        const url = ((await s.backup.restore()) as { url: string }).url;
        const w = await open(s.dataDir, s.oldHex, url);
        try {
          return { url, report: await w.backup.replayErasures(operator) };
        } finally {
          await w.close();
        }
      })()
    : { url: undefined, report: (await s.backup.restore(s.oldHex)) as RestoreReport };
  assert.equal(r.report.resealed, null);
  const w = await open(s.dataDir, s.oldHex, r.url);
  try {
    assert.equal(await enrollCode(w, OBAMA[1]!), 'SUBJECT_SUPPRESSED');
  } finally {
    await w.close();
  }
});

// Backups written before the manifest named the master key: the restore tries their sealed data. A
// PostgreSQL dump has no manifest: the first test runs that way there.
if (ENGINE === 'sqlite')
  test(`${ENGINE}: a backup whose manifest names no master key is tried, refused without the old key and restored with it`, async () => {
    const s = await scenario();
    const manifest = join(s.backup.dir!, 'manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    assert.equal(m['masterKeyId'], key(s.oldHex).id);
    delete m['masterKeyId'];
    writeFileSync(manifest, JSON.stringify(m));
    const before = snapshot(s.dataDir, undefined);
    await assert.rejects(s.backup.restore(s.newHex), { code: 'MASTER_KEY_INVALID', message: /another master key/ });
    assert.deepEqual(snapshot(s.dataDir, undefined), before, 'the probe left something behind');
    const r = (await s.backup.restore(s.newHex, Buffer.from(s.oldHex, 'hex'))) as RestoreReport;
    assert.equal(r.resealed?.counts.suppressions, 1);
    await assertBlocksAndWorks(s.dataDir, s.newHex, undefined);
  });

// The restore recognises each kind of derived-key data on its own (here without the manifest's key
// id, as a PostgreSQL restore always is): one that opened under neither key would be refused even
// with the old key, one that opened under any would let the restore through without it.
const GROUP = 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg';
const kinds: Record<string, (v: Veil) => Promise<void>> = {
  'a media file': async (v) => {
    const m = await v.media.ingest(operator, 'members', { name: 'party.jpg', bytes: face(GROUP) });
    assert.equal(m.status, 'ingested');
  },
  "a rights request's address": async (v) => {
    await v.rights.intake.submit({ kind: 'erasure', email: 'later@example.org' });
  },
};
for (const [kind, populate] of Object.entries(kinds))
  test(`${ENGINE}: a backup holding only ${kind} under the old master's keys is recognised, refused without it, restored with it`, async () => {
    const s = await scenario(populate);
    if (s.backup.dir) {
      const manifest = join(s.backup.dir, 'manifest.json');
      const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
      delete m['masterKeyId'];
      writeFileSync(manifest, JSON.stringify(m));
    }
    const url = s.databaseUrl ? ((await s.backup.restore()) as { url: string }).url : undefined;
    if (url) for (const d of BACKUP_DIRS) copyTree(join(s.files, d), join(s.dataDir, d));
    await assert.rejects(restore(s, undefined, url), { code: 'MASTER_KEY_INVALID', message: /another master key/ });
    const { url: restored, report } = await restore(s, Buffer.from(s.oldHex, 'hex'), url);
    const c = report.resealed!.counts;
    assert.deepEqual([c.media + c.requests, report.resealed!.unreadable], [1, 0]);
    const v = await open(s.dataDir, s.newHex, restored);
    try {
      const media = await v.store.db.selectFrom('media').select('id').execute();
      for (const m of media) assert.ok((await v.media.photo(m.id)).length > 0, 'the photo opens under the current key');
    } finally {
      await v.close();
    }
  });

// A rotation that stopped halfway leaves part of the data under each key, and Veil still starts on
// the old one: a backup (or dump) taken then holds both. Its rights request (sealed again first)
// opens under the current key and its do-not-enroll entry does not: judged by whether anything
// opens, it passed as the current key's, with or without the old key given, and every enrollment
// then failed on the entry. The same mix is what a replay stopped halfway leaves on PostgreSQL.
test(`${ENGINE}: a backup holding a rotation stopped halfway is refused without the old key and restored whole with it`, async () => {
  const oldHex = randomBytes(32).toString('hex');
  const newHex = randomBytes(32).toString('hex');
  const dataDir = tempDir('veil-restore-mix-');
  const { databaseUrl } = await engineOptions();
  let v = await open(dataDir, oldHex, databaseUrl, undefined, new MemoryMailer());
  let request;
  try {
    await membersPurpose(v);
    await enroll(v, BIDEN);
    await withSuppression(v);
    request = (await v.rights.intake.submit({ kind: 'erasure', email: 'later@example.org' })).requestId;
  } finally {
    await v.close();
  }
  const real = await openStore({ databaseUrl, sqlitePath: join(dataDir, 'veil.db') });
  let cut = false;
  let n = 0;
  const store: Store = {
    ...real,
    transaction: (fn) => (cut && ++n >= 2 ? Promise.reject(new Error('power cut')) : real.transaction(fn)),
  };
  const env = { VEIL_MASTER_KEY: oldHex };
  v = await openVeil({ dataDir, engine: await engine(), env, controller: 'Test Controller', store });
  try {
    cut = true;
    // The rights requests' transaction commits, the do-not-enroll entries' does not.
    await assert.rejects(v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(newHex, 'hex') }), /power cut/);
  } finally {
    await v.close();
  }
  v = await open(dataDir, oldHex, databaseUrl);
  let backup;
  try {
    backup = await backUpAndRestoreLater(v, dataDir, oldHex, databaseUrl);
    await v.keyRotation.rotateMaster(operator, { newKey: Buffer.from(newHex, 'hex') });
  } finally {
    await v.close();
  }
  if (backup.dir) {
    // A backup from before the manifest named its key: judged by its data, as a dump always is.
    const manifest = join(backup.dir, 'manifest.json');
    const m = JSON.parse(readFileSync(manifest, 'utf8')) as Record<string, unknown>;
    delete m['masterKeyId'];
    writeFileSync(manifest, JSON.stringify(m));
  }
  const s = { oldHex, newHex, dataDir, databaseUrl, backup, files: dataDir };
  const url = databaseUrl ? ((await backup.restore()) as { url: string }).url : undefined;
  await assert.rejects(restore(s, undefined, url), { code: 'MASTER_KEY_INVALID', message: /another master key/ });
  await assert.rejects(restore(s, Buffer.from(newHex, 'hex'), url), { code: 'MASTER_KEY_INVALID' });
  const { url: restored, report } = await restore(s, Buffer.from(oldHex, 'hex'), url);
  assert.equal(report.resealed?.counts.suppressions, 1);
  assert.equal(report.resealed?.unreadable, 0);
  await assertBlocksAndWorks(dataDir, newHex, restored);
  const w = await open(dataDir, newHex, restored);
  try {
    const r = await w.store.db
      .selectFrom('rights_requests')
      .select('contact_sealed')
      .where('id', '=', request)
      .executeTakeFirstOrThrow();
    assert.equal(new ContactSecrets(key(newHex)).openContact(request, r.contact_sealed), 'later@example.org');
  } finally {
    await w.close();
  }
});

// The restore's copy of the backup's database it tries keys on holds sealed data of people erased
// since; a restore killed while it was open left it in the data directory for good.
if (ENGINE === 'sqlite')
  test(`${ENGINE}: a probe copy a killed restore left in the data directory is removed by the next restore`, async () => {
    const s = await scenario();
    const leftover = join(s.dataDir, 'restore-probe-0123456789ab.db');
    for (const f of [leftover, `${leftover}-wal`]) writeFileSync(f, readFileSync(join(s.backup.dir!, 'veil.db')));
    await assert.rejects(s.backup.restore(s.newHex), { code: 'MASTER_KEY_INVALID' });
    assert.deepEqual(
      readdirSync(s.dataDir).filter((f) => f.startsWith('restore-probe-')),
      [],
      'the leftover probe copy is still there',
    );
  });

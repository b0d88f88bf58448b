import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { actors } from '../../src/auth/actor.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { MasterKey, KEYSTORE_FILE, open } from '../../src/privacy/keys.js';
import { SLOT_BYTES } from '../../src/privacy/keystore-format.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import type { PurposeId, SubjectId, TemplateId } from '../../src/ids.js';
import { startSmtp } from '../../support/smtp.js';
import { engine, NOTICE, operator } from '../gallery/fixture.js';
import { ENGINE, engineOptions, face, tempDir } from '../helpers.js';
import { GcmWindowScanner } from './gcm-scan.js';
import { filesUnder, postgresFiles, type DiskFile } from './disk.js';

const OBAMA = [
  'face_recognition/obama/test_obama.jpg',
  'face_recognition/obama/test_obama2.jpg',
  'face_recognition/obama/ex_obama-480p.jpg', // the selfie: one the liveness check passes
  'face_recognition/obama/knn_test_obama1.jpg',
];
const GROUP = 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg';
const DERIVED = ['rights', 'media', 'suppression', 'contact', 'exports', 'rate-limits'];
const EMAIL = 'gone@example.org';

/** The subject's face data as it was before the erasure: what an attacker would like back. */
interface Before {
  subjectId: SubjectId;
  dataKey: Buffer;
  slot: number;
  templates: { id: TemplateId; subjectId: SubjectId; purposeId: PurposeId; sealed: Buffer; clear: Buffer }[];
  selfie: Buffer;
  keystore: Buffer;
  /** The face crop ingestion made of their sighting: sealed as stored, and the JPEG inside. */
  crop: { faceId: string; sealed: Buffer; clear: Buffer };
}

async function setUp(masterHex: string) {
  const smtp = await startSmtp();
  const db = await engineOptions();
  const dataDir = tempDir('veil-remnants-');
  const v = await openVeil({
    ...db,
    dataDir,
    clock: new ManualClock('2026-01-31T10:00:00.000Z'),
    engine: await engine(),
    env: { VEIL_MASTER_KEY: masterHex },
    controller: 'Test Controller',
    mailer: new SmtpMailer(smtp.url, 'privacy@test.example'),
  });
  return { v, smtp, dataDir, databaseUrl: db.databaseUrl };
}

/** Enrolled with a kept photo, seen in an ingested photo, and the author of a rights request with a selfie. */
async function personWithEverything(v: Veil, smtp: Awaited<ReturnType<typeof startSmtp>>): Promise<Before> {
  await v.purposes.create(operator, {
    key: 'members',
    name: 'Members',
    description: 'Members check in by face; their enrollment photo is kept.',
    lawfulBasis: 'consent',
    keepSourceImages: true,
  });
  const { consent } = await v.consents.give(operator, {
    purpose: 'members',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'test',
    contactEmail: EMAIL,
  });
  const { subjectId } = await v.gallery.enroll(operator, {
    purpose: 'members',
    consentId: consent.id,
    images: [face(OBAMA[0]!), face(OBAMA[3]!)],
  });
  const seen = await v.media.ingest(operator, 'members', { name: 'party.jpg', bytes: face(GROUP) });
  assert.equal(seen.status === 'ingested' && seen.sightings, 1);
  const r = await v.rights.intake.submit({ kind: 'access', email: EMAIL });
  await v.rights.intake.verify(r.requestId, { code: smtp.codeFor(EMAIL), selfies: [face(OBAMA[2]!)] });

  const sid = subjectId as SubjectId;
  const dataKey = await v.keyring.get(v.store.db, sid);
  const slot = (await keySlotRepository.all(v.store.db)).find((s) => s.owner === sid)!.slot;
  const rows = await v.store.db
    .selectFrom('templates')
    .select(['id', 'subject_id', 'purpose_id', 'sealed'])
    .where('subject_id', '=', sid)
    .execute();
  const templates = rows.map((t) => {
    const row = { id: t.id as TemplateId, subjectId: sid, purposeId: t.purpose_id as PurposeId, sealed: t.sealed };
    const v32 = v.vault.openTemplate(dataKey, row);
    return { ...row, clear: Buffer.from(v32.buffer, v32.byteOffset, v32.byteLength) };
  });
  assert.equal(templates.length, 2);
  const req = await v.store.db
    .selectFrom('rights_requests')
    .select('pending_selfie')
    .where('id', '=', r.requestId)
    .executeTakeFirstOrThrow();
  assert.ok(req.pending_selfie, 'the request keeps its sealed selfie for a day');
  const crops = await v.store.db
    .selectFrom('sighting_crops')
    .select(['face_id', 'sealed'])
    .where('subject_id', '=', sid)
    .execute();
  assert.equal(crops.length, 1, 'ingestion sealed the crop of the sighting');
  const [{ face_id: faceId, sealed }] = crops as [(typeof crops)[0]];
  const crop = { faceId, sealed, clear: v.vault.openCrop(dataKey, faceId, sid, sealed) };
  return {
    crop,
    subjectId: sid,
    dataKey,
    slot,
    templates,
    selfie: req.pending_selfie,
    keystore: readFileSync(join(v.dataDir, KEYSTORE_FILE)),
  };
}

function occurrences(files: readonly DiskFile[], needle: Buffer): string[] {
  return files.filter((f) => f.read().includes(needle)).map((f) => f.name);
}

test(`an erased subject's key and templates cannot be recovered from any file of the data directory${ENGINE === 'postgres' ? ' or of the PostgreSQL cluster' : ''}, even with the master key`, async (t) => {
  const since = Date.now() - 2000;
  const masterHex = randomBytes(32).toString('hex');
  const masterBytes = Buffer.from(masterHex, 'hex');
  const master = MasterKey.fromBytes(masterBytes);
  const { v, smtp, dataDir, databaseUrl } = await setUp(masterHex);
  let before: Before;
  try {
    before = await personWithEverything(v, smtp);
    await v.lifecycle.erase([before.subjectId], actors.system('test'), null);
    const left = await v.store.db
      .selectFrom('rights_requests')
      .select('pending_selfie')
      .where('pending_selfie', 'is not', null)
      .execute();
    assert.equal(left.length, 0, 'the selfie went with the person');
    const crops = await v.store.db.selectFrom('sighting_crops').select('face_id').execute();
    assert.deepEqual(crops, [], 'the sighting crop went with the person');
  } finally {
    await v.close();
    await smtp.close();
  }
  const sid = before.subjectId;

  const files = filesUnder(dataDir, () => true, 'dataDir');
  const pgData = process.env['VEIL_TEST_PG_DATA'];
  if (databaseUrl && pgData)
    files.push(...(await postgresFiles(process.env['VEIL_TEST_PG_URL']!, pgData, databaseUrl, since)));
  else if (databaseUrl) t.diagnostic('VEIL_TEST_PG_DATA is not set: the cluster files were not scanned');
  const bytes = files.reduce((n, f) => n + (statSync(f.path, { throwIfNoEntry: false })?.size ?? 0), 0);
  t.diagnostic(`scanning ${files.length} files, ${(bytes / 1e6).toFixed(1)} MB`);

  // 1. The data key in clear, raw or as text.
  for (const form of [
    before.dataKey,
    Buffer.from(before.dataKey.toString('hex')),
    Buffer.from(before.dataKey.toString('base64')),
  ])
    assert.deepEqual(occurrences(files, form), [], 'the data key in clear');

  // 2. The attacker's blind scan: every 60-byte window, unwrapped under the master key with every AAD
  // the subject's key was ever wrapped with (any slot number, and the pre-keystore table's).
  const aads = [`veil.data-key:${sid}`];
  for (let s = 1; s <= before.slot + 16; s++) aads.push(`veil.keystore.v1:${sid}:${s}`);
  const scanner = new GcmWindowScanner(masterBytes, aads);
  const canary = scanner.scan(before.keystore);
  assert.equal(canary.length, 1, 'the scan finds the key in a copy of the keystore taken before the erasure');
  assert.equal(canary[0]!.offset, before.slot * SLOT_BYTES + 64);
  assert.ok(canary[0]!.plaintext.equals(before.dataKey));
  const t0 = performance.now();
  const recovered: Buffer[] = [];
  for (const f of files)
    for (const h of scanner.scan(f.read())) {
      recovered.push(h.plaintext);
      assert.fail(`${f.name} at ${h.offset} unwraps under the master key with ${h.aad}`);
    }
  t.diagnostic(`blind scan: ${((performance.now() - t0) / 1000).toFixed(1)} s`);

  // 3. The sealed templates captured before the erasure open with nothing that can be had: not the
  // master key, nothing derived from it, nothing the scan found. Nor is any template left in clear.
  const candidates = [masterBytes, ...DERIVED.map((l) => master.derive(l)), ...recovered];
  for (const tpl of before.templates) {
    for (const k of candidates) assert.throws(() => v.vault.openTemplate(k, tpl), { code: 'KEY_DESTROYED' });
    assert.deepEqual(occurrences(files, tpl.clear.subarray(0, 64)), [], 'a template in clear');
  }

  // 4. The sighting's face crop: nowhere in clear; its sealed bytes open with nothing left; and on
  // SQLite (secure_delete, WAL scrubbed) not even the ciphertext remains. PostgreSQL may keep it in
  // dead row versions until a vacuum: only the shredded key could open it.
  const { crop } = before;
  assert.ok(crop.clear.length > 1000, 'a real JPEG crop');
  for (const at of [0, crop.clear.length >> 1, crop.clear.length - 64])
    assert.deepEqual(occurrences(files, crop.clear.subarray(at, at + 64)), [], 'the crop in clear');
  for (const k of candidates)
    assert.throws(() => v.vault.openCrop(k, crop.faceId, sid, crop.sealed), { code: 'KEY_DESTROYED' });
  if (!databaseUrl)
    assert.deepEqual(occurrences(files, crop.sealed.subarray(12, 76)), [], 'the sealed crop in the SQLite files');
  assert.ok(
    v.vault.openCrop(before.dataKey, crop.faceId, sid, crop.sealed).equals(crop.clear),
    'only the shredded key could',
  );
});

test(`the sealed selfie of an erased person's rights request cannot be opened from any ${ENGINE} file, even with the master key`, async (t) => {
  const since = Date.now() - 2000;
  const masterHex = randomBytes(32).toString('hex');
  const master = MasterKey.fromBytes(Buffer.from(masterHex, 'hex'));
  const { v, smtp, dataDir, databaseUrl } = await setUp(masterHex);
  let before: Before;
  let selfieKey: Buffer;
  let selfieOwner: string;
  let selfieSlot: number;
  try {
    before = await personWithEverything(v, smtp);
    // The selfie has a data key of its own in the keystore, shredded when the selfie is forgotten.
    const owners = await keySlotRepository.all(v.store.db);
    const own = owners.find((o) => o.owner.startsWith('selfie:'))!;
    selfieOwner = own.owner;
    selfieSlot = own.slot;
    selfieKey = await v.keyring.get(v.store.db, selfieOwner);
    await v.lifecycle.erase([before.subjectId], actors.system('test'), null);
  } finally {
    await v.close();
    await smtp.close();
  }
  const files = filesUnder(dataDir, () => true, 'dataDir');
  const pgData = process.env['VEIL_TEST_PG_DATA'];
  if (databaseUrl && pgData)
    files.push(...(await postgresFiles(process.env['VEIL_TEST_PG_URL']!, pgData, databaseUrl, since)));
  else if (databaseUrl) t.diagnostic('VEIL_TEST_PG_DATA is not set: the cluster files were not scanned');
  assert.deepEqual(occurrences(files, selfieKey), [], "the selfie's key in clear");
  const aads = [];
  for (let sl = 1; sl <= selfieSlot + 16; sl++) aads.push(`veil.keystore.v1:${selfieOwner}:${sl}`);
  const scanner = new GcmWindowScanner(Buffer.from(masterHex, 'hex'), aads);
  for (const f of files) assert.deepEqual(scanner.scan(f.read()), [], `${f.name}: the selfie's key unwraps`);
  // Old row versions may keep the ciphertext (PostgreSQL does): nothing left can open it.
  const aad = `veil.request-selfie:${selfieOwner.slice('selfie:'.length)}`;
  for (const k of [Buffer.from(masterHex, 'hex'), ...DERIVED.map((l) => master.derive(l))])
    assert.throws(() => open(k, before.selfie, aad), { code: 'KEY_DESTROYED' });
  assert.ok(open(selfieKey, before.selfie, aad).length === 2048, 'only the shredded key could');
});

test('the data directory is 0700 and every file and folder in it private, WAL and shared memory included', async () => {
  const dataDir = tempDir('veil-modes-');
  const v = await openVeil({ ...(await engineOptions()), dataDir, engine: await engine(), env: {} });
  try {
    await v.purposes.create(operator, {
      key: 'members',
      name: 'Members',
      description: 'Members check in by face; their enrollment photo is kept.',
      lawfulBasis: 'consent',
      keepSourceImages: true,
    });
    const { consent } = await v.consents.give(operator, {
      purpose: 'members',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
    });
    await v.gallery.enroll(operator, { purpose: 'members', consentId: consent.id, images: [face(OBAMA[0]!)] });
    await v.media.ingest(operator, 'members', { name: 'party.jpg', bytes: face(GROUP) });
    await v.rights.intake.submit({ kind: 'access', email: EMAIL });
    const seen = filesUnder(dataDir).map((f) => f.path);
    for (const want of ['master.key', 'audit-signing-key.pem', KEYSTORE_FILE, 'images', 'media', 'outbox'])
      assert.ok(
        seen.some((p) => p.startsWith(join(dataDir, want))),
        want,
      );
    if (v.store.engine === 'sqlite') assert.ok(seen.includes(join(dataDir, 'veil.db-wal')));
    assert.equal(statSync(dataDir).mode & 0o777, 0o700, dataDir);
    const loose = filesUnder(dataDir)
      .flatMap((f) => [f.path, ...parents(dataDir, f.path)])
      .filter((p, i, all) => all.indexOf(p) === i)
      .filter((p) => statSync(p).mode & 0o077)
      .map((p) => `${p} ${(statSync(p).mode & 0o777).toString(8)}`);
    assert.deepEqual(loose, []);
  } finally {
    await v.close();
  }
});

function parents(root: string, path: string): string[] {
  const out: string[] = [];
  for (let d = path.slice(0, path.lastIndexOf('/')); d.length > root.length; d = d.slice(0, d.lastIndexOf('/')))
    out.push(d);
  return out;
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { SmtpMailer } from '../../src/rights/mailer.js';
import { contactHash, KEYSTORE_FILE, MasterKey, NEXT_MASTER_FILE, open } from '../../src/privacy/keys.js';
import { ContactSecrets } from '../../src/privacy/contact-secrets.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import { openStore, type Store } from '../../src/store/store.js';
import { startSmtp } from '../../support/smtp.js';
import { engine, NOTICE, operator } from '../gallery/fixture.js';
import { engineOptions, face, tempDir } from '../helpers.js';
import { GcmWindowScanner } from '../security/gcm-scan.js';

const OBAMA = ['face_recognition/obama/test_obama.jpg', 'face_recognition/obama/test_obama2.jpg'];
const OBAMA_SELFIE = 'face_recognition/obama/ex_obama-480p.jpg'; // one the liveness check passes
const GROUP = 'face_recognition/_multi_face/knn_test_obama_and_biden.jpg';
const SHELDON = 'faceapi_bbt/sheldon/sheldon1.png';
const EMAIL = 'barack@example.org';
const why = { justification: 'rotation test' };

/** A store whose transactions fail from the `failAt`-th on, once armed: a rotation stopped halfway. */
function interruptible(real: Store) {
  let n = 0;
  let failAt = Infinity;
  const store: Store = {
    ...real,
    transaction: (fn) => (++n >= failAt ? Promise.reject(new Error('power cut')) : real.transaction(fn)),
  };
  return { store, arm: (k: number) => ((n = 0), (failAt = k)), disarm: () => (failAt = Infinity) };
}

async function install(dataDir: string, smtpUrl: string, store?: Store, databaseUrl?: string) {
  return openVeil({
    dataDir,
    clock: new ManualClock('2026-01-31T10:00:00.000Z'),
    engine: await engine(),
    env: {},
    controller: 'Test Controller',
    mailer: new SmtpMailer(smtpUrl, 'privacy@test.example'),
    ...(store ? { store } : databaseUrl ? { databaseUrl } : {}),
  });
}

/** Something sealed under every key the master key wraps or derives. */
async function populate(v: Veil, smtp: Awaited<ReturnType<typeof startSmtp>>) {
  await v.purposes.create(operator, {
    key: 'events',
    name: 'Event photos',
    description: 'Find the photos of you taken at our events, with your explicit consent.',
    lawfulBasis: 'consent',
    keepSourceImages: true,
  });
  const { consent } = await v.consents.give(operator, {
    purpose: 'events',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'portal',
    collector: 'portal',
    contactEmail: EMAIL,
  });
  const { subjectId } = await v.gallery.enroll(operator, {
    purpose: 'events',
    consentId: consent.id,
    images: [face(OBAMA[0]!)],
  });
  const media = await v.media.ingest(operator, 'events', { name: 'party.jpg', bytes: face(GROUP) });
  assert.equal(media.status, 'ingested');
  const access = await v.rights.intake.submit({ kind: 'access', email: EMAIL });
  const ver = await v.rights.intake.verify(access.requestId, {
    code: smtp.codeFor(EMAIL),
    selfies: [face(OBAMA_SELFIE)],
  });
  await v.rights.queue.review(operator, access.requestId, { decision: 'approve', note: 'selfie matches' });
  await v.rights.queue.fulfil(operator, access.requestId);
  const waiting = await v.rights.intake.submit({ kind: 'erasure', email: 'later@example.org' });
  const portal = await v.portal.start({ purpose: 'events', email: 'portal@example.org', language: 'en' });
  const sheldon = (await v.engine.analyze(face(SHELDON))).faces[0]!.embedding;
  await v.suppression.add(operator, {
    embedding: sheldon,
    model: v.engine.modelId,
    reason: 'objection',
    at: '2026-01-31',
  });
  return {
    subjectId,
    mediaId: media.status === 'ingested' ? media.mediaId : '',
    access: { id: access.requestId, token: ver.downloadToken! },
    waiting: waiting.requestId,
    portal: portal.enrollmentId,
    sheldon,
  };
}

test('rotate-master: everything works under the new key, and the old one opens nothing the installation holds', async (t) => {
  const smtp = await startSmtp();
  t.after(() => smtp.close());
  const dataDir = tempDir('veil-rotate-');
  const { databaseUrl } = await engineOptions();
  let v = await install(dataDir, smtp.url, undefined, databaseUrl);
  const oldHex = readFileSync(join(dataDir, 'master.key'), 'utf8').trim();
  const old = MasterKey.fromBytes(Buffer.from(oldHex, 'hex'));
  let p;
  try {
    p = await populate(v, smtp);
  } finally {
    await v.close();
  }

  // A first run stops halfway (its third transaction fails): some rows are under the new key, the
  // rest, the files and the keystore still under the old one.
  const cut = interruptible(await openStore({ databaseUrl, sqlitePath: join(dataDir, 'veil.db') }));
  v = await install(dataDir, smtp.url, cut.store);
  try {
    cut.arm(3);
    await assert.rejects(v.keyRotation.rotateMaster(operator), /power cut/);
    assert.ok(existsSync(join(dataDir, NEXT_MASTER_FILE)), 'the new key is kept for the re-run');
    cut.disarm();
  } finally {
    await v.close();
  }

  // Veil still starts on the old key; the same command again finishes the job.
  v = await install(dataDir, smtp.url, undefined, databaseUrl);
  let report;
  const t0 = performance.now();
  try {
    report = await v.keyRotation.rotateMaster(operator);
  } finally {
    await v.close();
  }
  const ms = performance.now() - t0;
  const next = MasterKey.readFile(join(dataDir, 'master.key'));
  assert.equal(report.from, old.id);
  assert.equal(report.to, next.id);
  assert.equal(report.unreadable, 0);
  assert.equal(
    report.counts.slots,
    3,
    "the subject's key, the kept selfie's and the do-not-enroll entry's journal key",
  );
  assert.ok(report.counts.media >= 1 && report.counts.exports >= 1 && report.counts.suppressions === 1);
  assert.equal(existsSync(join(dataDir, NEXT_MASTER_FILE)), false);
  assert.notEqual(readFileSync(join(dataDir, 'master.key'), 'utf8').trim(), oldHex);
  t.diagnostic(`rotation of a small install: ${ms.toFixed(0)} ms`);

  v = await install(dataDir, smtp.url, undefined, databaseUrl);
  try {
    // The subject still matches; the kept photo and the contact still open under their key.
    const hit = await v.search.identify(operator, { purpose: 'events', image: face(OBAMA[1]!), ...why });
    assert.equal(hit.candidates[0]?.subjectId, p.subjectId);
    // A rights request's address still gets mail.
    const sent = smtp.messages.length;
    await v.rights.intake.resendCode(p.waiting);
    assert.equal(smtp.messages.length, sent + 1);
    assert.equal(smtp.messages.at(-1)!.to, 'later@example.org');
    // Media still redacts; the export still downloads; the suppression entry still blocks.
    const red = await v.media.redact(operator, p.mediaId);
    assert.ok(red.jpeg.length > 1000 && red.shown === 1, JSON.stringify({ shown: red.shown }));
    assert.ok((await v.rights.self.download(p.access.id, p.access.token)).bytes.length > 100);
    assert.equal((await v.suppression.current(v.store.db))(p.sheldon), true);
    // Contact hashes follow the new key: the address still links the person.
    const s = await v.store.db
      .selectFrom('subjects')
      .select('contact_hash')
      .where('id', '=', p.subjectId)
      .executeTakeFirstOrThrow();
    assert.equal(s.contact_hash, contactHash(next, EMAIL));
    const r = await v.store.db
      .selectFrom('rights_requests')
      .select(['contact_hash', 'contact_sealed'])
      .where('id', '=', p.waiting)
      .executeTakeFirstOrThrow();
    assert.equal(r.contact_hash, contactHash(next, 'later@example.org'));

    // Nothing opens with the old key.
    assert.throws(() => new ContactSecrets(old).openContact(p.waiting, r.contact_sealed), { code: 'KEY_DESTROYED' });
    const pen = await v.store.db
      .selectFrom('portal_enrollments')
      .select('contact_sealed')
      .where('id', '=', p.portal)
      .executeTakeFirstOrThrow();
    assert.throws(() => new ContactSecrets(old).openContact(p.portal, pen.contact_sealed));
    assert.equal(new ContactSecrets(next).openContact(p.portal, pen.contact_sealed), 'portal@example.org');
    const mediaDir = join(dataDir, 'media');
    for (const f of readdirSync(mediaDir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())) {
      const bytes = readFileSync(join(f.parentPath, f.name));
      assert.throws(() => open(old.derive('media'), bytes, `veil.media:${f.name.replace('.sealed', '')}`));
    }
    const keystore = readFileSync(join(dataDir, KEYSTORE_FILE));
    const aads = Array.from({ length: 4 }, (_, i) => `veil.keystore.v1:${p.subjectId}:${i + 1}`);
    assert.deepEqual(new GcmWindowScanner(Buffer.from(oldHex, 'hex'), aads).scan(keystore), []);
    assert.equal(new GcmWindowScanner(Buffer.from(next.toHex(), 'hex'), aads).scan(keystore).length, 1);
    const audit = await v.store.db
      .selectFrom('audit_entries')
      .select('body')
      .where('action', '=', 'key.master.rotated')
      .execute();
    assert.ok(audit.length >= 1 && audit.every((a) => a.body.includes(old.id)));
  } finally {
    await v.close();
  }
  // A process still given the old key refuses to start (checked on the keystore alone: openVeil
  // does not close its store when a start-up step throws).
  const store = await openStore({ databaseUrl, sqlitePath: join(dataDir, 'veil.db') });
  try {
    await assert.rejects(openKeyRing({ store, master: old, dataDir }), { code: 'MASTER_KEY_INVALID' });
  } finally {
    await store.close();
  }
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { sql } from 'kysely';
import { VeilClient, type VeilApiError } from '../../src/client/client.js';
import { actors } from '../../src/auth/actor.js';
import { openVeil } from '../../src/app/veil.js';
import { isDatabaseUnavailable } from '../../src/store/errors.js';
import type { SubjectId } from '../../src/ids.js';
import { openStore, type Store } from '../../src/store/store.js';
import { checkDatabase } from '../../src/ops/db-check.js';
import { ENGINE, engineEnv, face, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';
import { spawnServer, type ServerProcess } from '../../support/server-process.js';

const NOTICE = 'We match your face against event photos to find the pictures you appear in.';

/**
 * Polls until `done` holds; returns the milliseconds it took (a diagnostic: how fast a change reaches
 * another process is measured in bench/cluster.bench.ts). The limit is a hang guard only: on SQLite the
 * follower polls every 250 ms, on PostgreSQL NOTIFY wakes it and a 5 s poll covers a lost notification.
 */
async function eventually(done: () => Promise<boolean>, limitMs = 30_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await done()) return performance.now() - t0;
    if (performance.now() - t0 > limitMs) throw new Error(`not within ${limitMs} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Two real `veil serve` processes on one database (SQLite file or PostgreSQL) and one data
 * directory, as docs/deploy.md describes; the test talks to them only over HTTP.
 */
describe(`two API processes on one ${ENGINE} database`, () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let env: Record<string, string>;
  let dataDir: string;
  let a: ServerProcess;
  let b: ServerProcess;
  let A: VeilClient;
  let B: VeilClient;
  let store: Store;
  let token: string;

  before(async () => {
    smtp = await startSmtp();
    dataDir = tempDir('veil-cluster-');
    env = { ...(await engineEnv()), VEIL_DATA_DIR: dataDir, VEIL_SMTP_URL: smtp.url };
    a = await spawnServer(env);
    // B starts against the schema and keys A created: no second admin key, no second signing key.
    b = await spawnServer(env);
    assert.ok(a.adminToken, 'the first process creates the admin key');
    assert.equal(b.adminToken, null, 'the second process finds it');
    token = a.adminToken!;
    A = new VeilClient(a.url, token);
    B = new VeilClient(b.url, token);
    store = await openStore({
      databaseUrl: env['DATABASE_URL'],
      sqlitePath: join(dataDir, 'veil.db'),
      migrations: 'none',
    });
    await A.createPurpose({
      key: 'events',
      name: 'Events',
      description: 'Find the photos of you taken at our events.',
      lawfulBasis: 'consent',
    });
  });

  after(async () => {
    await store?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await smtp?.close();
  });

  const probe = (who: VeilClient, path: string) =>
    who.identify({ purpose: 'events', image: face(path), justification: 'cluster test' });

  test('enrolled through A is found through B; erased through A is gone from B without a restart; withdrawal through B reaches A', async () => {
    const { consent } = await A.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
      contactEmail: 'kit@example.org',
    });
    const e = await A.enroll({
      purpose: 'events',
      consentId: consent.id,
      images: [face('face_recognition/kit_harington/knn_train_kit_harington_john1.jpeg')],
    });
    const seen = await eventually(
      async () =>
        (await probe(B, 'face_recognition/kit_harington/knn_train_kit_harington_john2.jpeg')).candidates[0]
          ?.subjectId === e.subjectId,
    );

    const req = await A.submitRequest({ kind: 'erasure', email: 'kit@example.org' });
    await A.verifyRequest(req.requestId, smtp.codeFor('kit@example.org'));
    const done = await A.fulfilRequest(req.requestId);
    assert.equal(done.request.state, 'fulfilled');
    assert.equal(
      (await probe(A, 'face_recognition/kit_harington/knn_train_kit_harington_john2.jpeg')).decision,
      'no-match',
    );
    const gone = await eventually(
      async () =>
        (await probe(B, 'face_recognition/kit_harington/knn_train_kit_harington_john2.jpeg')).decision === 'no-match',
    );
    // The same store answers both: B reports the subject erased, not a stale copy.
    assert.equal((await B.subject(e.subjectId))['state'], 'erased');

    const { consent: c2 } = await B.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
      contactEmail: 'rose@example.org',
    });
    const r = await B.enroll({
      purpose: 'events',
      consentId: c2.id,
      images: [face('face_recognition/rose_leslie/knn_train_rose_leslie_img1.jpg')],
    });
    await eventually(
      async () =>
        (await probe(A, 'face_recognition/rose_leslie/knn_train_rose_leslie_img2.jpg')).candidates[0]?.subjectId ===
        r.subjectId,
    );
    await B.withdrawConsent(c2.id);
    const withdrawn = await eventually(
      async () =>
        (await probe(A, 'face_recognition/rose_leslie/knn_train_rose_leslie_img2.jpg')).decision === 'no-match',
    );
    process.stderr.write(
      `# propagation on ${ENGINE}: enroll ${seen.toFixed(0)} ms, erasure ${gone.toFixed(0)} ms, withdrawal ${withdrawn.toFixed(0)} ms (incl. one identify each)\n`,
    );
  });

  test('an API key revoked through A is refused by B at once', async () => {
    const { key, token: operator } = await A.createKey({
      name: 'door scanner',
      role: 'operator',
      purposes: ['events'],
    });
    const viaB = new VeilClient(b.url, operator);
    assert.ok(Array.isArray((await viaB.listPurposes()).items), 'B accepts the new key');
    const del = await fetch(`${a.url}/v1/keys/${String(key['id'])}`, {
      method: 'DELETE',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.ok(del.ok, String(del.status));
    await assert.rejects(viaB.listPurposes(), (e: unknown) => (e as VeilApiError).status === 401);
  });

  test('one process killed during ingestion: the other keeps serving, and the ingestion resumes on it without duplicates', async () => {
    const { consent } = await A.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 'test',
      contactEmail: 'barack@example.org',
    });
    const obama = await A.enroll({
      purpose: 'events',
      consentId: consent.id,
      images: [face('face_recognition/obama/test_obama.jpg')],
    });
    await eventually(async () => (await probe(B, 'face_recognition/obama/test_obama2.jpg')).decision === 'match');
    const photos = [
      'face_recognition/_multi_face/knn_test_obama_and_biden.jpg',
      'face_recognition/_multi_face/ex_two_people.jpg',
      'face_recognition/_multi_face/knn_test_kit_with_rose.jpg',
      'face_recognition/obama/test_obama2.jpg',
      'face_recognition/obama/test_obama3.jpg',
      'face_recognition/obama/knn_test_obama1.jpg',
      'face_recognition/obama/ex_obama-720p.jpg',
      'faceapi_bbt/_group_photos/bbt1.jpg',
      'faceapi_bbt/_group_photos/bbt2.jpg',
      'faceapi_bbt/_group_photos/bbt3.jpg',
      'faceapi_bbt/_group_photos/bbt4.jpg',
      'faceapi_bbt/_group_photos/bbt5.jpg',
    ];
    // B serves identification throughout; not one of its answers may fail.
    let serving = true;
    const bAnswers: number[] = [];
    const bLoop = (async () => {
      while (serving) bAnswers.push((await probe(B, 'face_recognition/obama/test_obama3.jpg')).candidates.length);
    })();
    // Two uploads in flight to A; A is killed (SIGKILL, no cleanup) after its third answer.
    const fromA = new Map<string, string>();
    let next = 0;
    const uploader = async () => {
      while (next < photos.length) {
        const p = photos[next++]!;
        try {
          const r = await A.ingest('events', face(p), p);
          if (r.status !== 'failed') fromA.set(p, r.mediaId);
          if (fromA.size === 3) await a.kill();
        } catch {
          return; // connection refused or reset: A is gone
        }
      }
    };
    await Promise.all([uploader(), uploader()]);
    assert.ok(a.child.signalCode === 'SIGKILL', 'A was killed mid-ingestion');
    assert.ok(fromA.size >= 3 && fromA.size < photos.length, `A ingested ${fromA.size} before dying`);

    // The client resumes the whole folder on B: what A committed is skipped, the rest ingested once.
    const outcomes: Awaited<ReturnType<VeilClient['ingest']>>[] = [];
    for (const p of photos) outcomes.push(await B.ingest('events', face(p), p));
    serving = false;
    await bLoop;
    assert.ok(bAnswers.length > 0 && bAnswers.every((n) => n === 1), 'B identified throughout');
    for (const [p, id] of fromA) {
      const o = outcomes[photos.indexOf(p)]!;
      assert.equal(o.status, 'skipped', `${p} was committed by A`);
      assert.equal(o.status === 'skipped' && o.mediaId, id);
    }
    assert.equal(outcomes.filter((o) => o.status === 'ingested').length + fromA.size, photos.length);

    const media = await store.db.selectFrom('media').select(['id', 'sha256']).execute();
    assert.equal(media.length, photos.length, 'one media row per photo');
    assert.equal(new Set(media.map((m) => m.sha256)).size, photos.length);
    const logged = await store.db
      .selectFrom('audit_entries')
      .select('seq')
      .where('action', '=', 'media.ingested')
      .execute();
    assert.equal(logged.length, photos.length, 'one media.ingested entry per photo');
    const sightings = await B.sightings(obama.subjectId);
    assert.equal(
      new Set(sightings.items.map((s) => s['mediaId'])).size,
      sightings.items.length,
      'no photo counted twice for a person',
    );
    assert.ok(sightings.items.length >= 5);

    // A process killed between writing a sealed photo and committing leaves at most a file no
    // row refers to; db check finds and removes such files, and nothing stored is missing.
    const checks = await checkDatabase({
      store,
      dataDir,
      settings: { masterKey: undefined, auditSigningKey: undefined },
      databaseUrl: env['DATABASE_URL'],
      repair: true,
      orphanGraceMs: 0,
    });
    for (const c of checks) assert.notEqual(c.status, 'fail', `${c.name}: ${c.detail}`);
    const files = readdirSync(join(dataDir, 'media'), { recursive: true, withFileTypes: true }).filter((f) =>
      f.isFile(),
    );
    assert.equal(files.length, photos.length, 'exactly one sealed file per media row');

    // A comes back (a new process on the same database) and serves the same gallery.
    a = await spawnServer(env);
    A = new VeilClient(a.url, token);
    assert.equal((await probe(A, 'face_recognition/obama/test_obama2.jpg')).candidates[0]?.subjectId, obama.subjectId);
  });
});

/**
 * Killing a PostgreSQL backend is a server-engine fault: SQLite runs inside the process, so it has
 * no connection to lose; its equivalent (the process dying mid-transaction) is the test above.
 */
describe(
  'PostgreSQL connections killed mid-transaction',
  {
    skip:
      ENGINE === 'postgres'
        ? false
        : 'PostgreSQL only: SQLite has no connection to kill (the process-kill test covers it)',
  },
  () => {
    let admin: pg.Client;
    let url: string;
    before(async () => {
      url = (await engineEnv())['DATABASE_URL']!;
      admin = new pg.Client({ connectionString: process.env['VEIL_TEST_PG_URL'] });
      await admin.connect();
    });
    after(() => admin?.end());

    /** Terminates backends and waits until they are gone (PostgreSQL 14+ timeout argument). */
    const terminate = (where: string, arg: unknown) =>
      admin.query(`select pg_terminate_backend(pid, 5000) from pg_stat_activity where ${where}`, [arg]);

    test('no partial enrollment or erasure; the store reconnects and the next attempt succeeds', async () => {
      const dir = tempDir('veil-fault-');
      const real = await openStore({ databaseUrl: url, sqlitePath: join(dir, 'veil.db') });
      // The fault: after every statement of the transaction ran, its connection dies before COMMIT.
      let armed = false;
      const faulty: Store = {
        ...real,
        db: real.db,
        transaction: (fn) =>
          real.transaction(async (tx) => {
            const r = await fn(tx);
            if (armed) {
              armed = false;
              const { rows } = await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(tx);
              await terminate('pid = $1', rows[0]!.pid);
            }
            return r;
          }),
      };
      const veil = await openVeil({ dataDir: dir, store: faulty, env: {} });
      try {
        await veil.purposes.create(SYSTEM, {
          key: 'gym',
          name: 'Gym check-in',
          description: 'Members check in at the door by face.',
          lawfulBasis: 'consent',
          keepSourceImages: true,
        } as never);
        const { consent } = await veil.consents.give(SYSTEM, {
          purpose: 'gym',
          noticeText: NOTICE,
          noticeVersion: '1',
          method: 'api',
          collector: 'test',
        } as never);
        const sid = consent.subjectId as SubjectId;
        const photo = face('face_recognition/obama/test_obama.jpg');
        const counts = async () => ({
          templates: await count(real, 'templates'),
          enrolled: await audited(real, 'subject.enrolled'),
          erased: await audited(real, 'subject.erased'),
          keys: await count(real, 'subject_keys'),
          files: readdirSync(dir, { recursive: true }).filter((f) => String(f).endsWith('.sealed')).length,
        });
        const matches = async () =>
          (
            await veil.search.identify(SYSTEM, {
              purpose: 'gym',
              image: face('face_recognition/obama/test_obama2.jpg'),
              justification: 'fault test',
            } as never)
          ).candidates.length;
        const before = await counts();

        armed = true;
        await assert.rejects(
          veil.gallery.enroll(SYSTEM, { purpose: 'gym', consentId: consent.id, images: [photo] } as never),
          (e: unknown) => isDatabaseUnavailable(e),
        );
        assert.deepEqual(await counts(), before, 'nothing of the enrollment was kept: rows, audit entry, sealed photo');
        assert.equal(await matches(), 0, 'and nothing reached the index');

        // The pool replaces the dead connection: the same call now succeeds.
        await veil.gallery.enroll(SYSTEM, { purpose: 'gym', consentId: consent.id, images: [photo] } as never);
        const enrolled = await counts();
        assert.equal(enrolled.templates, 1);
        assert.equal(enrolled.files, 1);
        assert.equal(await matches(), 1);

        armed = true;
        await assert.rejects(veil.lifecycle.erase([sid], SYSTEM, null), (e: unknown) => isDatabaseUnavailable(e));
        assert.deepEqual(
          await counts(),
          enrolled,
          'nothing of the erasure happened: templates, key and photo are all still there',
        );
        assert.equal(await matches(), 1, 'and the subject is back in the index, as in every other process');
        assert.equal(
          (await real.db.selectFrom('subjects').select('state').where('id', '=', sid).executeTakeFirstOrThrow()).state,
          'active',
        );

        const cert = await veil.lifecycle.erase([sid], SYSTEM, null);
        assert.equal(cert.subjects[0]!.keyShredded, true);
        const erased = await counts();
        assert.deepEqual(
          { templates: erased.templates, keys: erased.keys, files: erased.files, erased: erased.erased },
          { templates: 0, keys: 0, files: 0, erased: 1 },
        );
        assert.equal(await matches(), 0);
      } finally {
        await veil.close();
      }
    });

    test('a server whose every connection is killed keeps serving and keeps following the change feed', async () => {
      const dir = tempDir('veil-fault-srv-');
      const server = await spawnServer({ DATABASE_URL: url, VEIL_DATA_DIR: dir });
      const api = new VeilClient(server.url, server.adminToken!);
      const other = await openVeil({ dataDir: dir, databaseUrl: url, env: {} });
      try {
        await api.createPurpose({
          key: 'events',
          name: 'Events',
          description: 'Find the photos of you taken at our events.',
          lawfulBasis: 'consent',
        });
        const dbName = new URL(url).pathname.slice(1);
        const killed = await terminate('datname = $1', dbName);
        assert.ok(killed.rowCount! >= 2, "the server's pool and its LISTEN connection");
        // Every request after the kill either succeeds or says "retry" (503): never a 500, never a hang.
        const statuses: number[] = [];
        for (let i = 0; i < 5; i++) {
          try {
            await api.identify({
              purpose: 'events',
              image: face('face_recognition/obama/test_obama2.jpg'),
              justification: 'after the kill',
            });
            statuses.push(200);
          } catch (e) {
            statuses.push((e as VeilApiError).status);
          }
        }
        assert.ok(
          statuses.every((s) => s === 200 || s === 503),
          statuses.join(','),
        );
        assert.equal(statuses.at(-1), 200, `serving again: ${statuses.join(',')}`);
        // Its LISTEN connection died too: it listens again (as does this process's, killed with it), and
        // a change committed by another process reaches it.
        await eventually(async () => {
          const { rows } = await admin.query<{ n: number }>(
            `select count(*)::int as n from pg_stat_activity where datname = $1 and query = 'LISTEN veil_index_changes'`,
            [dbName],
          );
          return rows[0]!.n === 2;
        });
        const { consent } = await other.consents.give(SYSTEM, {
          purpose: 'events',
          noticeText: NOTICE,
          noticeVersion: '1',
          method: 'api',
          collector: 'test',
        });
        await other.gallery.enroll(SYSTEM, {
          purpose: 'events',
          consentId: consent.id,
          images: [face('face_recognition/obama/test_obama.jpg')],
        });
        await eventually(
          async () =>
            (
              await api.identify({
                purpose: 'events',
                image: face('face_recognition/obama/test_obama2.jpg'),
                justification: 'feed',
              })
            ).decision === 'match',
        );
      } finally {
        await other.close();
        await server.stop();
      }
    });
  },
);

const SYSTEM = actors.system('fault-test');

async function count(store: Store, table: 'templates' | 'subject_keys'): Promise<number> {
  return Number(
    (
      await store.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );
}

async function audited(store: Store, action: string): Promise<number> {
  return Number(
    (
      await store.db
        .selectFrom('audit_entries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('action', '=', action)
        .executeTakeFirstOrThrow()
    ).n,
  );
}

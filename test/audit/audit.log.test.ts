import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { sql } from 'kysely';
import { ManualClock } from '../../src/clock.js';
import type { Store } from '../../src/store/store.js';
import { AuditLog } from '../../src/audit/audit.log.js';
import { loadOrCreateSigningKey, prepareRotation } from '../../src/audit/signing-key.js';
import { verifyExport } from '../../src/audit/verify.js';
import { verifyConsistency, verifyInclusion } from '../../src/audit/merkle.js';
import { keyIdOf, signHead, verifyHeadSignature } from '../../src/audit/tree-head.js';
import { entryLeafHash, type AuditInput } from '../../src/audit/entry.js';
import { REPO, openTestStore, tempDir, testDatabaseUrl } from '../helpers.js';
import { statSync } from 'node:fs';

const input = (i: number): AuditInput => ({
  actor: { kind: 'api-key', id: `key-${i % 3}` },
  action: 'search.performed',
  purposeId: 'p1',
  subjectIds: [`s${i}`],
  detail: { caseRef: `case-${i}`, returned: i % 4 },
});

async function setup(opts = { checkpointEvery: 10, checkpointSeconds: 60 }) {
  const dir = tempDir();
  const databaseUrl = await testDatabaseUrl();
  const store = await openTestStore(dir, databaseUrl);
  const clock = new ManualClock();
  const { key } = loadOrCreateSigningKey(dir, undefined);
  const audit = new AuditLog({ clock, key, serialize: (tx) => store.serializeAudit(tx as never) }, opts);
  await audit.init(store.db);
  return { dir, store, clock, key, audit, databaseUrl };
}

async function exportOf(store: Store, audit: AuditLog, from = 1, to?: number): Promise<string[]> {
  const lines: string[] = [];
  for await (const l of audit.exportLines(store.db, from, to)) lines.push(JSON.stringify(l));
  return lines;
}

async function fill(store: Store, audit: AuditLog, clock: ManualClock, n: number) {
  for (let i = 0; i < n; i++) {
    await store.transaction((tx) => audit.append(tx, input(i)));
    clock.advance(1000);
  }
}

describe('audit log on SQLite', () => {
  test('appends get consecutive seqs, heads every N entries, proofs that verify against signed heads', async () => {
    const { store, audit, clock, key } = await setup();
    await fill(store, audit, clock, 25);
    const heads = await store.db.selectFrom('audit_heads').selectAll().orderBy('size').execute();
    assert.deepEqual(
      heads.map((h) => Number(h.size)),
      [10, 20],
    );
    const head = await audit.latestHead(store.db);
    assert.equal(head.size, 25, 'latestHead signs on demand when the log grew');
    assert.ok(verifyHeadSignature(head, key.publicKeyPem));
    for (const seq of [1, 7, 16, 25]) {
      const p = await audit.inclusionProof(store.db, seq);
      assert.ok(
        verifyInclusion(
          seq - 1,
          25,
          Buffer.from(p.leafHash, 'hex'),
          p.proof.map((x) => Buffer.from(x, 'hex')),
          Buffer.from(head.rootHash, 'hex'),
        ),
      );
      assert.equal(entryLeafHash(p.entry).toString('hex'), p.leafHash, 'the leaf hash is the canonical entry hash');
    }
    const c = await audit.consistencyProof(store.db, 10, 25);
    assert.ok(
      verifyConsistency(
        10,
        25,
        Buffer.from(heads[0]!.root_hash, 'hex'),
        Buffer.from(head.rootHash, 'hex'),
        c.map((x) => Buffer.from(x, 'hex')),
      ),
    );
    const r = verifyExport(await exportOf(store, audit), { trustedPublicKeys: [key.publicKeyPem] });
    assert.equal(r.ok, true, JSON.stringify(r.failure));
    assert.equal(r.entries, 25);
    assert.equal(r.headsVerified, 3);
    assert.equal(r.trust, 'pinned');
    // A partial export carries the prefix frontier and still recomputes the signed roots.
    const part = verifyExport(await exportOf(store, audit, 12, 20), { trustedPublicKeys: [key.publicKeyPem] });
    assert.equal(part.ok, true, JSON.stringify(part.failure));
    assert.equal(part.headsVerified, 1);
    await store.close();
  });

  test('several appends in one transaction continue from the edge the transaction holds, across heads and other transactions', async () => {
    const { store, clock, audit, key } = await setup({ checkpointEvery: 4, checkpointSeconds: 60 });
    await fill(store, audit, clock, 2);
    // 7 appends in one transaction (crossing two head boundaries), single and batched, then more outside it.
    await store.transaction(async (tx) => {
      for (let i = 0; i < 4; i++) await audit.append(tx, input(100 + i));
      await audit.appendMany(tx, [input(200), input(201), input(202)]);
    });
    await assert.rejects(
      store.transaction(async (tx) => {
        await audit.append(tx, input(300));
        throw new Error('rolled back');
      }),
    );
    await fill(store, audit, clock, 3);
    await store.transaction((tx) => audit.signHead(tx));
    const rep = verifyExport(await exportOf(store, audit), { trustedPublicKeys: [key.publicKeyPem] });
    assert.equal(rep.ok, true, JSON.stringify(rep.failure));
    assert.equal(rep.entries, 12);
    const seqs = (await store.db.selectFrom('audit_entries').select('seq').orderBy('seq').execute()).map((r) =>
      Number(r.seq),
    );
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    await store.close();
  });

  test('time-based checkpoint signs only when entries arrived and the last head is old enough', async () => {
    const { store, audit, clock } = await setup({ checkpointEvery: 1000, checkpointSeconds: 60 });
    await fill(store, audit, clock, 3);
    assert.ok(await audit.maybeCheckpoint(store.db), 'first head');
    assert.equal(await audit.maybeCheckpoint(store.db), null, 'nothing new');
    await fill(store, audit, clock, 2);
    assert.equal(await audit.maybeCheckpoint(store.db), null, 'too soon');
    clock.advance(61_000);
    assert.equal((await audit.maybeCheckpoint(store.db))!.size, 5);
    await store.close();
  });

  test('a crash between the change and its entry leaves neither', async () => {
    const { store, audit } = await setup();
    await sql`create table scratch (id ${sql.raw(store.engine === 'postgres' ? 'serial' : 'integer')} primary key, note text not null)`.execute(
      store.db,
    );
    await assert.rejects(
      store.transaction(async (tx) => {
        await sql`insert into scratch (note) values ('a change')`.execute(tx);
        await audit.append(tx, input(1));
        throw new Error('crash after the entry');
      }),
      /crash/,
    );
    await assert.rejects(
      store.transaction(async (tx) => {
        await sql`insert into scratch (note) values ('another change')`.execute(tx);
        await audit.append(tx, { ...input(2), detail: { email: 'person@example.org' } });
      }),
      /email/,
    );
    const rows = await sql<{ n: number }>`select count(*) as n from scratch`.execute(store.db);
    assert.equal(Number(rows.rows[0]!.n), 0);
    assert.equal(await audit.size(store.db), 0);
    assert.equal((await store.db.selectFrom('audit_nodes').selectAll().execute()).length, 0);
    await store.close();
  });

  test('the signing key file is created with mode 0600 and reused', async () => {
    const dir = tempDir();
    const a = loadOrCreateSigningKey(dir, undefined);
    assert.equal(a.created, true);
    assert.equal(statSync(join(dir, 'audit-signing-key.pem')).mode & 0o777, 0o600);
    const b = loadOrCreateSigningKey(dir, undefined);
    assert.equal(b.created, false);
    assert.equal(b.key.keyId, a.key.keyId);
    const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    assert.notEqual(loadOrCreateSigningKey(dir, pem).key.keyId, a.key.keyId);
    assert.throws(() => loadOrCreateSigningKey(dir, '-----BEGIN nonsense'), /AUDIT_KEY_INVALID|not a PEM/);
  });

  test('key rotation: the new key signs a head the old key also signed; verifiers pinned to the old key follow', async () => {
    const { store, audit, clock, dir, key } = await setup();
    await fill(store, audit, clock, 12);
    const { next, commit } = prepareRotation(dir);
    await store.transaction((tx) => audit.crossSign(tx, next));
    commit();
    const audit2 = new AuditLog(
      { clock, key: loadOrCreateSigningKey(dir, undefined).key, serialize: (tx) => store.serializeAudit(tx as never) },
      { checkpointEvery: 10, checkpointSeconds: 60 },
    );
    assert.equal(audit2.keyId, next.keyId);
    await fill(store, audit2, clock, 9);
    const r = verifyExport(await exportOf(store, audit2), { trustedPublicKeys: [key.publicKeyPem] });
    assert.equal(r.ok, true, JSON.stringify(r.failure));
    assert.deepEqual(new Set(r.trustedKeys), new Set([key.keyId, next.keyId]));
    await store.close();
  });
});

describe('tampering with the store is found at its exact position', () => {
  async function tampered(edit: (s: Store) => Promise<void>) {
    const { store, audit, clock, key } = await setup();
    await fill(store, audit, clock, 30);
    await audit.latestHead(store.db);
    await edit(store);
    const r = verifyExport(await exportOf(store, audit, 1, 30), { trustedPublicKeys: [key.publicKeyPem] });
    await store.close();
    return r;
  }
  const body = (s: Store, seq: number) =>
    s.db.selectFrom('audit_entries').select('body').where('seq', '=', seq).executeTakeFirstOrThrow();

  test('untouched: OK', async () => assert.equal((await tampered(async () => undefined)).ok, true));

  test('an edited entry', async () => {
    const r = await tampered(async (s) => {
      const b = JSON.parse((await body(s, 14)).body);
      b.detail.caseRef = 'forged';
      await s.db
        .updateTable('audit_entries')
        .set({ body: JSON.stringify(b) })
        .where('seq', '=', 14)
        .execute();
    });
    assert.equal(r.failure?.code, 'AUDIT_TAMPERED');
    assert.equal((r.failure as { seq: number }).seq, 14);
  });

  test('a deleted entry', async () => {
    const r = await tampered(async (s) => void (await s.db.deleteFrom('audit_entries').where('seq', '=', 9).execute()));
    assert.equal(r.failure?.code, 'AUDIT_TAMPERED');
    assert.equal((r.failure as { seq: number }).seq, 9);
    assert.match(r.failure!.message, /missing/);
  });

  test('two entries swapped', async () => {
    const r = await tampered(async (s) => {
      const [a, b] = [await body(s, 20), await body(s, 21)];
      await s.db.updateTable('audit_entries').set({ body: b.body }).where('seq', '=', 20).execute();
      await s.db.updateTable('audit_entries').set({ body: a.body }).where('seq', '=', 21).execute();
    });
    assert.equal((r.failure as { seq: number }).seq, 20);
    assert.match(r.failure!.message, /out of order/);
  });

  test('an entry inserted in the middle (later seqs renumbered)', async () => {
    const r = await tampered(async (s) => {
      const prev = JSON.parse((await body(s, 4)).body);
      await sql`update audit_entries set seq = seq + 1000 where seq >= 5`.execute(s.db);
      await sql`update audit_entries set seq = seq - 999 where seq >= 1005`.execute(s.db);
      const fake = { ...prev, seq: 5, detail: { caseRef: 'fabricated' }, prev: entryLeafHash(prev).toString('hex') };
      await s.db
        .insertInto('audit_entries')
        .values({
          seq: 5,
          time: fake.time,
          action: fake.action,
          actor_kind: 'api-key',
          actor_id: 'x',
          purpose_id: null,
          subject_ids: ' ',
          body: JSON.stringify(fake),
          leaf_hash: entryLeafHash(fake),
        })
        .execute();
    });
    assert.equal(r.failure?.code, 'AUDIT_TAMPERED');
    assert.equal((r.failure as { seq: number }).seq, 5);
    assert.match(r.failure!.message, /inserted/);
  });

  test('the last entries removed', async () => {
    const r = await tampered(
      async (s) => void (await s.db.deleteFrom('audit_entries').where('seq', '>', 27).execute()),
    );
    assert.equal(r.failure?.code, 'AUDIT_TAMPERED');
    assert.equal((r.failure as { seq: number }).seq, 28);
  });

  test('a head signed by another key', async () => {
    const r = await tampered(async (s) => {
      const other = generateKeyPairSync('ed25519');
      const pub = other.publicKey.export({ type: 'spki', format: 'pem' }).toString();
      const h = await s.db.selectFrom('audit_heads').selectAll().where('size', '=', 20).executeTakeFirstOrThrow();
      const forged = signHead(
        { size: 20, rootHash: h.root_hash, timestamp: h.timestamp, keyId: keyIdOf(pub) },
        other.privateKey,
      );
      await s.db
        .insertInto('audit_keys')
        .values({ key_id: forged.keyId, public_key: pub, created_at: h.timestamp, retired_at: null })
        .execute();
      await s.db
        .insertInto('audit_heads')
        .values({
          size: 20,
          key_id: forged.keyId,
          root_hash: forged.rootHash,
          timestamp: forged.timestamp,
          signature: forged.signature,
        })
        .execute();
    });
    assert.equal(r.failure?.code, 'AUDIT_BAD_SIGNATURE');
    assert.equal((r.failure as { headSize: number }).headSize, 20);
  });

  test('a head whose root was rewritten', async () => {
    const r = await tampered(
      async (s) =>
        void (await s.db
          .updateTable('audit_heads')
          .set({ root_hash: 'ab'.repeat(32) })
          .where('size', '=', 10)
          .execute()),
    );
    assert.equal(r.failure?.code, 'AUDIT_BAD_SIGNATURE');
    assert.equal((r.failure as { headSize: number }).headSize, 10);
  });
});

test('two writer processes appending at once never produce duplicate or missing seqs', async () => {
  const { store, audit, key, dir, databaseUrl } = await setup();
  await audit.latestHead(store.db);
  await store.close();
  const writer = join(REPO, 'test/audit/writer.fixture.ts');
  const run = (tag: string) =>
    new Promise<number>((resolve, reject) => {
      const p = spawn(process.execPath, ['--import', 'tsx', writer, dir, tag, '150'], {
        stdio: ['ignore', 'ignore', 'inherit'],
        env: { ...process.env, ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}) },
      });
      p.on('exit', (c) => (c === 0 ? resolve(c) : reject(new Error(`writer ${tag} exited ${c}`))));
    });
  await Promise.all([run('A'), run('B')]);
  const s2 = await openTestStore(dir, databaseUrl);
  const a2 = new AuditLog({ clock: new ManualClock(), key }, { checkpointEvery: 10, checkpointSeconds: 60 });
  const seqs = (await s2.db.selectFrom('audit_entries').select('seq').orderBy('seq').execute()).map((r) =>
    Number(r.seq),
  );
  assert.equal(seqs.length, 300);
  seqs.forEach((s, i) => assert.equal(s, i + 1));
  const r = verifyExport(await exportOf(s2, a2), { trustedPublicKeys: [key.publicKeyPem] });
  assert.equal(r.ok, true, JSON.stringify(r.failure));
  await s2.close();
});

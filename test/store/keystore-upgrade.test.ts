import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { openStore } from '../../src/store/store.js';
import { KEYSTORE_FILE } from '../../src/privacy/keys.js';
import type { PurposeId, SubjectId, TemplateId } from '../../src/ids.js';
import { engine, operator } from '../gallery/fixture.js';
import { createDatabase, ENGINE, face, REPO, tempDir } from '../helpers.js';
import { GcmWindowScanner } from '../security/gcm-scan.js';
import { postgresFiles, filesUnder, type DiskFile } from '../security/disk.js';

const FIXTURES = join(REPO, 'test/fixtures/pre-migrator', ENGINE);
const fixture = JSON.parse(readFileSync(join(FIXTURES, 'fixture.json'), 'utf8')) as {
  aliceSubject: string;
  watchSubject: string;
  masterKeyHex: string;
};

/** The database the code before the keystore wrote (schema 7, keys in subject_keys), in a data directory of its own. */
async function preKeystoreCopy(): Promise<{ dir: string; databaseUrl: string | undefined }> {
  const dir = tempDir('veil-keystore-upgrade-');
  copyFileSync(join(FIXTURES, 'audit-signing-key.pem'), join(dir, 'audit-signing-key.pem'));
  const admin = process.env['VEIL_TEST_PG_URL'];
  if (!admin) {
    copyFileSync(join(FIXTURES, 'veil.db'), join(dir, 'veil.db'));
    return { dir, databaseUrl: undefined };
  }
  const url = await createDatabase(admin);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(readFileSync(join(FIXTURES, 'dump.sql'), 'utf8'));
  } finally {
    await c.end();
  }
  return { dir, databaseUrl: url };
}

const open = async (dir: string, databaseUrl: string | undefined): Promise<Veil> =>
  openVeil({
    dataDir: dir,
    engine: await engine(),
    env: { VEIL_MASTER_KEY: fixture.masterKeyHex },
    ...(databaseUrl ? { databaseUrl } : {}),
  });

test(`a ${ENGINE} database from before the keystore: keys move out on the first start, templates still open, and the old wrapped keys are gone from its files`, async (t) => {
  const since = Date.now() - 2000;
  const { dir, databaseUrl } = await preKeystoreCopy();
  const raw = await openStore({ databaseUrl, sqlitePath: join(dir, 'veil.db'), migrations: 'none' });
  const legacy = await raw.db.selectFrom('subject_keys').select(['subject_id', 'wrapped_key']).execute();
  await raw.close();
  assert.ok(legacy.length >= 2, `${legacy.length} keys in the fixture`);

  // Another session holding a snapshot while the keys move (CI once met an autovacuum ANALYZE doing
  // so): the deleted rows are still visible to it, and the scrub must not keep them for its sake.
  const reader = databaseUrl ? new pg.Client({ connectionString: databaseUrl }) : undefined;
  if (reader) {
    await reader.connect();
    await reader.query('begin isolation level repeatable read');
    await reader.query('select count(*) from subjects');
  }
  let v = await open(dir, databaseUrl).finally(() => reader?.end());
  let templates;
  try {
    assert.ok(
      v.notices.some((n) => n.message.includes(`Moved ${legacy.length} data keys`)),
      JSON.stringify(v.notices),
    );
    const left = await v.store.db.selectFrom('subject_keys').select('subject_id').execute();
    assert.deepEqual(left, [], 'the old table is empty');
    // Every template of the fixture still decrypts with the moved key.
    templates = await v.store.db.selectFrom('templates').select(['id', 'subject_id', 'purpose_id', 'sealed']).execute();
    assert.ok(templates.length >= 2);
    for (const tpl of templates) {
      const key = await v.keyring.get(v.store.db, tpl.subject_id);
      const vec = v.vault.openTemplate(key, {
        id: tpl.id as TemplateId,
        subjectId: tpl.subject_id as SubjectId,
        purposeId: tpl.purpose_id as PurposeId,
        sealed: tpl.sealed,
      });
      assert.equal(vec.length, 512);
    }
    // And the index built from them finds Alice by a new photo.
    const hit = await v.search.identify(operator, {
      purpose: 'events',
      image: face('face_recognition/biden/knn_train_biden_biden2.jpg'),
      justification: 'upgrade check',
    });
    assert.equal(hit.candidates[0]?.subjectId, fixture.aliceSubject);
  } finally {
    await v.close();
  }

  // A second start has nothing to move and does not scrub again.
  v = await open(dir, databaseUrl);
  try {
    assert.ok(!v.notices.some((n) => n.message.includes('Moved')));
  } finally {
    await v.close();
  }

  // No file holds a wrapped key of the old table any more, nor anything that unwraps as one.
  let files: DiskFile[] = filesUnder(dir, (rel) => rel !== KEYSTORE_FILE, 'dataDir');
  const pgData = process.env['VEIL_TEST_PG_DATA'];
  if (databaseUrl) {
    if (!pgData) return t.diagnostic('VEIL_TEST_PG_DATA is not set: the cluster files were not scanned');
    // The relation files; the WAL the dump was loaded through is the server's (docs/security.md).
    files = (await postgresFiles(process.env['VEIL_TEST_PG_URL']!, pgData, databaseUrl, since)).filter((f) =>
      f.name.startsWith('PGDATA/base/'),
    );
  } else assert.ok(existsSync(join(dir, 'veil.db')) && !existsSync(join(dir, 'veil.db-wal')));
  const scanner = new GcmWindowScanner(
    Buffer.from(fixture.masterKeyHex, 'hex'),
    legacy.map((k) => `veil.data-key:${k.subject_id}`),
  );
  for (const f of files) {
    const b = f.read();
    for (const k of legacy)
      assert.ok(!b.includes(k.wrapped_key), `${f.name} still holds the wrapped key of ${k.subject_id}`);
    assert.deepEqual(scanner.scan(b), [], f.name);
  }
  t.diagnostic(`${files.length} files scanned`);
  // The keys are in the keystore now, under the master key.
  const ks = readFileSync(join(dir, KEYSTORE_FILE));
  const slotAads = legacy.flatMap((k) =>
    Array.from({ length: legacy.length }, (_, i) => `veil.keystore.v1:${k.subject_id}:${i + 1}`),
  );
  assert.equal(new GcmWindowScanner(Buffer.from(fixture.masterKeyHex, 'hex'), slotAads).scan(ks).length, legacy.length);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { ENGINE, REPO, createDatabase, tempDir } from '../helpers.js';
import { openStore, type MigrationMode, type Store } from '../../src/store/store.js';
import { bridgeLegacyMigrations, migrate, migrationStatus } from '../../src/store/migrator.js';
import { MIGRATIONS, versionOf } from '../../src/store/migrations/index.js';
import type { Database } from '../../src/store/schema.js';
import { checkDatabase } from '../../src/ops/db-check.js';

const FIXTURES = join(REPO, 'test/fixtures/pre-migrator', ENGINE);
const NAMES = Object.keys(MIGRATIONS);
const VERSIONS = NAMES.map(versionOf);
/** The versions the code before the Migrator recorded in `veil_migrations`. */
const LEGACY = VERSIONS.slice(0, 7);

/** The tables whose rows the fixture holds; an upgrade must keep every one of them. */
const COUNTED = [
  'purposes',
  'subjects',
  'consents',
  'consent_events',
  'templates',
  'enrollments',
  'searches',
  'media',
  'rights_requests',
  'api_keys',
  'audit_entries',
  'audit_heads',
] as const satisfies readonly (keyof Database)[];

interface Fixture {
  aliceSubject: string;
  aliceConsent: string;
  withdrawnConsent: string;
  watchSubject: string;
  request: string;
  masterKeyHex: string;
}

interface Target {
  readonly dir: string;
  readonly databaseUrl: string | undefined;
  open(mode: MigrationMode): Promise<Store>;
}

function target(dir: string, databaseUrl: string | undefined): Target {
  return {
    dir,
    databaseUrl,
    open: (migrations) => openStore({ databaseUrl, sqlitePath: join(dir, 'veil.db'), migrations }),
  };
}

/** An empty database on this run's engine. */
async function fresh(): Promise<Target> {
  const admin = process.env['VEIL_TEST_PG_URL'];
  return target(tempDir(), admin ? await createDatabase(admin) : undefined);
}

/** A copy of the database that the code before the Migrator wrote, with its data directory's signing key. */
async function preMigratorCopy(): Promise<Target> {
  const dir = tempDir();
  copyFileSync(join(FIXTURES, 'audit-signing-key.pem'), join(dir, 'audit-signing-key.pem'));
  const admin = process.env['VEIL_TEST_PG_URL'];
  if (!admin) {
    copyFileSync(join(FIXTURES, 'veil.db'), join(dir, 'veil.db'));
    return target(dir, undefined);
  }
  const url = await createDatabase(admin);
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    await c.query(readFileSync(join(FIXTURES, 'dump.sql'), 'utf8'));
  } finally {
    await c.end();
  }
  return target(dir, url);
}

const fixture = (): Fixture => JSON.parse(readFileSync(join(FIXTURES, 'fixture.json'), 'utf8')) as Fixture;

async function counts(store: Store): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of COUNTED)
    out[t] = Number(
      (
        await store.db
          .selectFrom(t)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirstOrThrow()
      ).n,
    );
  return out;
}

const kyselyRows = (store: Store) =>
  store.db.selectFrom('kysely_migration').select(['name', 'timestamp']).orderBy('name').execute();

const tablesOf = async (store: Store) => (await store.db.introspection.getTables()).map((t) => t.name).sort();

/** The tables one store alone makes on an empty database: what every other path must end with. */
let reference: Promise<string[]> | undefined;
function referenceTables(): Promise<string[]> {
  reference ??= fresh().then((t) => withStore(t, 'apply', tablesOf));
  return reference;
}

async function withStore<T>(t: Target, mode: MigrationMode, fn: (s: Store) => Promise<T>): Promise<T> {
  const store = await t.open(mode);
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

test('the migration list: one file per version, named in the order they run, versions 1..N without gaps', () => {
  assert.deepEqual(NAMES, [...NAMES].sort(), 'the Migrator runs names in sort order: the list must already be in it');
  assert.deepEqual(
    VERSIONS,
    NAMES.map((_, i) => i + 1),
  );
  for (const n of NAMES) assert.match(n, /^\d{4}-[a-z0-9-]+$/);
  assert.ok(VERSIONS.length >= 7, 'the seven versions the pre-Migrator code recorded are all here');
});

test(`a ${ENGINE} database written before the Migrator upgrades without loss, bridged once, and reopens without changes`, async () => {
  const db = await preMigratorCopy();
  const f = fixture();

  // Before any bridging, the legacy record alone counts as applied: only newer migrations are pending.
  const before = await withStore(db, 'none', async (s) => {
    const status = await migrationStatus(s.db);
    assert.deepEqual(
      status.applied.map((a) => [a.version, a.name]),
      NAMES.slice(0, 7).map((n) => [versionOf(n), n]),
    );
    assert.deepEqual(
      status.pending.map((p) => p.version),
      VERSIONS.slice(7),
    );
    assert.equal((await s.db.introspection.getTables({ withInternalKyselyTables: true })).length, 27);
    return {
      counts: await counts(s),
      legacy: await s.db.selectFrom('veil_migrations').selectAll().orderBy('version').execute(),
    };
  });
  assert.equal(before.legacy.length, 7);
  assert.ok(before.counts['audit_entries']! > 0 && before.counts['templates']! > 0, JSON.stringify(before.counts));
  // So a 'require' server starts on it unless this build has migrations the old code never had.
  if (VERSIONS.length === LEGACY.length) await withStore(db, 'require', async () => undefined);
  else await assert.rejects(db.open('require'), { code: 'SCHEMA_OUTDATED' });

  const firstRun = await withStore(db, 'apply', async (s) => {
    const status = await migrationStatus(s.db);
    assert.deepEqual(
      status.applied.map((a) => [a.version, a.name]),
      NAMES.map((n) => [versionOf(n), n]),
    );
    assert.deepEqual(status.pending, []);
    assert.deepEqual(status.unknown, []);
    assert.equal(status.latest, Math.max(...VERSIONS));
    const rows = await kyselyRows(s);
    // Kysely now holds the history, with the times the old code applied each version; anything
    // newer ran now, after them.
    assert.deepEqual(
      rows.slice(0, 7),
      NAMES.slice(0, 7).map((name, i) => ({ name, timestamp: before.legacy[i]!.applied_at })),
    );
    assert.deepEqual(
      rows.map((r) => r.name),
      NAMES,
    );
    for (const r of rows.slice(7)) assert.ok(r.timestamp > before.legacy[6]!.applied_at, r.name);
    assert.deepEqual(
      (await tablesOf(s)).filter((t) => t !== 'veil_migrations'),
      await referenceTables(),
      'an upgraded database has the tables a new one has',
    );
    assert.deepEqual(
      await s.db.selectFrom('veil_migrations').selectAll().orderBy('version').execute(),
      before.legacy,
      'the legacy record is kept unchanged',
    );
    assert.deepEqual(await counts(s), before.counts);

    // The rows the fixture names are there and readable as before.
    const alice = await s.db.selectFrom('subjects').selectAll().where('id', '=', f.aliceSubject).executeTakeFirst();
    assert.equal(alice?.state, 'active');
    assert.ok(Buffer.isBuffer(alice?.contact_sealed));
    const withdrawn = await s.db
      .selectFrom('consents')
      .select('state')
      .where('id', '=', f.withdrawnConsent)
      .executeTakeFirst();
    assert.equal(withdrawn?.state, 'withdrawn');
    assert.ok(await s.db.selectFrom('rights_requests').select('id').where('id', '=', f.request).executeTakeFirst());

    // The audit chain and its signed head verify, and the master key still opens the subject keys.
    const checks = await checkDatabase({
      store: s,
      dataDir: db.dir,
      settings: { masterKey: f.masterKeyHex, auditSigningKey: undefined },
      databaseUrl: db.databaseUrl,
    });
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    for (const name of ['schema', 'audit log', 'audit signing keys', 'master key', 'erased subjects'])
      assert.equal(byName[name]?.status, 'ok', `${name}: ${byName[name]?.detail}`);

    // The change feed's key keeps counting from where the old schema left it.
    const last = await s.db
      .selectFrom('index_changes')
      .select((eb) => eb.fn.max('seq').as('seq'))
      .executeTakeFirstOrThrow();
    const added = await s.db
      .insertInto('index_changes')
      .values({ subject_id: f.aliceSubject, at: '2026-12-02T00:00:00.000Z' })
      .returning('seq')
      .executeTakeFirstOrThrow();
    assert.ok(Number(added.seq) > Number(last.seq ?? 0), `${added.seq} after ${last.seq}`);
    return rows;
  });

  // A second start finds nothing to bridge and nothing to run.
  await withStore(db, 'apply', async (s) => {
    assert.deepEqual(await kyselyRows(s), firstRun);
    assert.deepEqual(await bridgeLegacyMigrations(s.db), []);
    assert.deepEqual(await migrate(s.db), []);
    assert.deepEqual((await migrationStatus(s.db)).pending, []);
    assert.deepEqual(await counts(s), { ...before.counts });
  });
});

test(`a ${ENGINE} database the old code left at version 5 gets only what came after`, async () => {
  const db = await preMigratorCopy();
  await withStore(db, 'none', async (s) => {
    // What a deployment that skipped the last two pre-Migrator releases looks like.
    await s.db.schema.dropTable('job_leases').execute();
    await s.db.schema.dropTable('index_changes').execute();
    await s.db.deleteFrom('veil_migrations').where('version', '>', 5).execute();
    const before = await counts(s);
    assert.deepEqual(await bridgeLegacyMigrations(s.db), [1, 2, 3, 4, 5]);
    assert.deepEqual(await migrate(s.db), VERSIONS.slice(5));
    assert.deepEqual((await migrationStatus(s.db)).pending, []);
    assert.deepEqual(await tablesOf(s).then((t) => t.filter((n) => n !== 'veil_migrations')), await referenceTables());
    assert.deepEqual(await counts(s), before);
  });
});

test(`two ${ENGINE} stores upgrading the same pre-Migrator database at once copy its history exactly once`, async () => {
  const db = await preMigratorCopy();
  const [a, b] = [await db.open('none'), await db.open('none')];
  try {
    const copied = await Promise.all([bridgeLegacyMigrations(a.db), bridgeLegacyMigrations(b.db)]);
    assert.deepEqual(
      copied.flat().sort((x, y) => x - y),
      LEGACY,
      `one bridged everything, the other nothing: ${JSON.stringify(copied)}`,
    );
    assert.deepEqual(
      (await kyselyRows(a)).map((r) => r.name),
      NAMES.slice(0, 7),
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
  const again = await preMigratorCopy();
  const stores = await Promise.all([again.open('apply'), again.open('apply')]);
  try {
    assert.deepEqual(
      (await kyselyRows(stores[0])).map((r) => r.name),
      NAMES,
    );
    assert.deepEqual((await migrationStatus(stores[1].db)).pending, []);
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }
});

test(`two ${ENGINE} stores opening the same fresh database at once both start and the schema is made once`, async () => {
  const db = await fresh();
  const stores = await Promise.all([db.open('apply'), db.open('apply')]);
  try {
    for (const s of stores) assert.deepEqual((await migrationStatus(s.db)).pending, []);
    assert.deepEqual(
      (await kyselyRows(stores[0])).map((r) => r.name),
      NAMES,
    );
    const tables = await tablesOf(stores[1]);
    assert.deepEqual(tables, await referenceTables());
    assert.ok(tables.includes('job_leases') && !tables.includes('veil_migrations'), tables.join(' '));
  } finally {
    await Promise.all(stores.map((s) => s.close()));
  }

  // The same race one level down: every migration ran in exactly one of the two.
  const other = await fresh();
  const [a, b] = [await other.open('none'), await other.open('none')];
  try {
    const ran = await Promise.all([migrate(a.db), migrate(b.db)]);
    assert.deepEqual(
      ran.flat().sort((x, y) => x - y),
      VERSIONS,
      JSON.stringify(ran),
    );
  } finally {
    await Promise.all([a.close(), b.close()]);
  }
});

test(`'require' refuses an empty ${ENGINE} database as outdated; 'apply' makes it current`, async () => {
  const db = await fresh();
  await assert.rejects(db.open('require'), (e: Error & { code?: string }) => {
    assert.equal(e.code, 'SCHEMA_OUTDATED');
    assert.ok(e.message.includes(`pending migrations ${VERSIONS.join(', ')})`), e.message);
    return true;
  });
  await withStore(db, 'apply', async (s) => {
    const status = await migrationStatus(s.db);
    assert.deepEqual(
      status.applied.map((a) => a.version),
      VERSIONS,
    );
    assert.deepEqual(status.pending, []);
  });
  await withStore(db, 'require', async () => undefined);
});

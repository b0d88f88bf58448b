import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { sql, type KyselyPlugin } from 'kysely';
import { createDatabase, tempDir } from '../helpers.js';
import { openStore, type Store } from '../../src/store/store.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';

/**
 * What an erasure reads must not grow with the gallery (migration 19). Every per-person step reads each
 * table that holds a `subject_id` by that column: without an index leading with it, each read scans
 * the table (an erasure at 1M templates spent a quarter of its time scanning `templates`). Checked on
 * the schema the migrations build, for every such table, so that a new one cannot forget its index.
 */
// Read by feed position first (`seq > ?`, its key), never by the person alone.
const NOT_LOOKED_UP_BY_SUBJECT = new Set(['index_changes']);

async function fresh(): Promise<Store> {
  const admin = process.env['VEIL_TEST_PG_URL'];
  const databaseUrl = admin ? await createDatabase(admin) : undefined;
  return openStore({ databaseUrl, sqlitePath: join(tempDir(), 'veil.db'), migrations: 'apply' });
}

/** The tables with a subject_id column, and for each table the first column of each of its indexes. */
async function shape(store: Store): Promise<{ tables: string[]; leading: Map<string, Set<string>> }> {
  const leading = new Map<string, Set<string>>();
  const add = (t: string, c: string) => leading.set(t, (leading.get(t) ?? new Set()).add(c));
  if (store.engine === 'postgres') {
    const cols = await sql<{ table_name: string }>`select table_name from information_schema.columns
      where table_schema = current_schema() and column_name = 'subject_id'`.execute(store.db);
    const idx = await sql<{ t: string; c: string }>`select t.relname as t, a.attname as c from pg_index i
      join pg_class t on t.oid = i.indrelid join pg_namespace n on n.oid = t.relnamespace
      join pg_attribute a on a.attrelid = t.oid and a.attnum = i.indkey[0]
      where n.nspname = current_schema()`.execute(store.db);
    for (const r of idx.rows) add(r.t, r.c);
    return { tables: cols.rows.map((r) => r.table_name).sort(), leading };
  }
  const tables = (
    await sql<{ name: string }>`select name from sqlite_master where type = 'table'`.execute(store.db)
  ).rows.map((r) => r.name);
  const withSubject: string[] = [];
  for (const t of tables) {
    const cols = await sql<{ name: string; pk: number }>`select name, pk from pragma_table_info(${t})`.execute(
      store.db,
    );
    if (cols.rows.some((c) => c.name === 'subject_id')) withSubject.push(t);
    // A rowid table's one-column primary key is its own index.
    const pk = cols.rows.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)[0];
    if (pk) add(t, pk.name);
    const list = await sql<{ name: string }>`select name from pragma_index_list(${t})`.execute(store.db);
    for (const i of list.rows) {
      const first = await sql<{ name: string }>`select name from pragma_index_info(${i.name}) where seqno = 0`.execute(
        store.db,
      );
      if (first.rows[0]) add(t, first.rows[0].name);
    }
  }
  return { tables: withSubject.sort(), leading };
}

test('every table read by person has an index that leads with subject_id (templates: migration 19)', async () => {
  const store = await fresh();
  try {
    const { tables, leading } = await shape(store);
    assert.ok(tables.includes('templates') && tables.includes('enrollments'), `tables found: ${tables.join(', ')}`);
    const missing = tables.filter((t) => !NOT_LOOKED_UP_BY_SUBJECT.has(t) && !leading.get(t)?.has('subject_id'));
    assert.deepEqual(missing, [], `tables read by subject_id without an index leading with it: ${missing.join(', ')}`);
  } finally {
    await store.close();
  }
});

test('the destroyed key slots are read through the partial index, not by reading every slot', async () => {
  const store = await fresh();
  try {
    // The query the keyring's shred runs twice an erasure, as the repository builds it: SQLite never
    // chose a plain index on destroyed_at for "is not null", and read every slot (53 ms at 1M).
    const seen: string[] = [];
    const capture: KyselyPlugin = {
      transformQuery: (a) => (seen.push(store.db.getExecutor().compileQuery(a.node, a.queryId).sql), a.node),
      transformResult: async (a) => a.result,
    };
    assert.deepEqual(await keySlotRepository.destroyed(store.db.withPlugin(capture)), []);
    assert.equal(seen.length, 1);
    const details = await store.db.transaction().execute(async (tx) => {
      if (store.engine === 'sqlite')
        return (await sql<{ detail: string }>`explain query plan ${sql.raw(seen[0]!)}`.execute(tx)).rows
          .map((r) => r.detail)
          .join('; ');
      // PostgreSQL plans an empty table by its statistics (a scan is cheapest there): whether the
      // index can serve the query is what is asked, so scans are priced out for this one plan.
      await sql`set local enable_seqscan = off`.execute(tx);
      const plan = await sql<{ 'QUERY PLAN': string }>`explain ${sql.raw(seen[0]!)}`.execute(tx);
      return plan.rows.map((r) => r['QUERY PLAN']).join('; ');
    });
    assert.match(details, /key_slots_destroyed_only/, details);
  } finally {
    await store.close();
  }
});

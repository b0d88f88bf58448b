// VEIL_SQLITE_CHECKPOINT=background (opt-in; 'commit' is the default): SQLite's WAL is copied into the database
// file by a worker thread, not by the commit that fills it (issue 17 item 5: its fsyncs on the event
// loop were a suspect for identify's tail). SQLite files only: the PostgreSQL pass runs it on SQLite too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { openSqliteStore, type SqliteCheckpoint, type Store } from '../../src/store/store.js';
import { BACKSTOP_PAGES } from '../../src/store/wal-checkpointer.js';
import { tempDir } from '../helpers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** 200 commits of a 4 KB row each: some 200+ pages in the WAL, below SQLite's own 1,000-page checkpoint. */
async function fill(store: Store): Promise<void> {
  await sql`create table filler (x blob)`.execute(store.db);
  for (let i = 0; i < 200; i++)
    await store.transaction((tx) => sql`insert into filler (x) values (${randomBytes(4096)})`.execute(tx));
}

async function opened(mode: SqliteCheckpoint) {
  const path = join(tempDir('veil-wal-'), 'veil.db');
  const store = await openSqliteStore(path, 'apply', mode);
  // Whatever the migrations left in the WAL is copied now, so only the filler counts below.
  await sql`pragma wal_checkpoint(TRUNCATE)`.execute(store.db);
  return { path, store, before: statSync(path).size };
}

test('background: a worker copies committed pages into the database file; commits do not', async () => {
  const bg = await opened('background');
  const commit = await opened('commit');
  try {
    await fill(bg.store);
    await fill(commit.store);
    await sleep(800);
    // SQLite's own checkpoint runs only past 1,000 pages: under 'commit' the pages are still only in the WAL.
    assert.equal(statSync(commit.path).size, commit.before, 'no checkpoint under 200 pages in commit mode');
    // The worker's PASSIVE checkpoints copied them (200 rows of 4 KB: at least 800 KB more in the file).
    assert.ok(statSync(bg.path).size - bg.before >= 200 * 4096, `${bg.before} -> ${statSync(bg.path).size}`);
    // The committing connection's own checkpoint is only the backstop, far above SQLite's 1,000 pages.
    const [bgAuto] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(bg.store.db)).rows;
    const [cAuto] = (await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(commit.store.db))
      .rows;
    assert.deepEqual([bgAuto!.wal_autocheckpoint, cAuto!.wal_autocheckpoint], [BACKSTOP_PAGES, 1000]);
    // Every row is there, read back through the main connection.
    const n = await sql<{ n: number }>`select count(*) as n from filler`.execute(bg.store.db);
    assert.equal(Number(n.rows[0]!.n), 200);
  } finally {
    await bg.store.close();
    await commit.store.close();
  }
});

test('background: close stops the worker, and the file then opens alone with every row', async () => {
  const bg = await opened('background');
  await fill(bg.store);
  await bg.store.close();
  const again = await openSqliteStore(bg.path, 'require', 'commit');
  try {
    const n = await sql<{ n: number }>`select count(*) as n from filler`.execute(again.db);
    assert.equal(Number(n.rows[0]!.n), 200);
    // No other connection holds the file: an exclusive lock is granted at once.
    await sql`pragma locking_mode = exclusive`.execute(again.db);
    await sql`begin exclusive`.execute(again.db);
    await sql`commit`.execute(again.db);
  } finally {
    await again.close();
  }
});

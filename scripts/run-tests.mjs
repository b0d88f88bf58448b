#!/usr/bin/env node
// Runs the test suite with Node's test runner (Node 20 does not expand globs itself).
//
// Tests come in layers (test/README.md): unit/ (pure modules), engine/ (the real face engine and
// hostile images), web/ (Debian Chromium), fuzz/ (bounded property runs) touch no database and run
// once per CI run; everything else touches the store and runs once per engine: on SQLite by
// default, and again on PostgreSQL when VEIL_TEST_PG_URL is set (the second pass of .ci/run).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

// readme/ runs every command of README.md against a real server on the embedded engine: once, it is slow.
const ONCE = ['unit', 'engine', 'web', 'fuzz', 'readme'];

function find(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? find(p) : n.endsWith('.test.ts') ? [p] : [];
  });
}

const postgres = Boolean(process.env.VEIL_TEST_PG_URL);
const filter = process.argv.slice(2);
const files = find('test')
  .filter((f) => !postgres || !ONCE.includes(f.split(sep)[1]))
  .filter((f) => !filter.length || filter.some((x) => f.includes(x)))
  .sort();
console.log(`# ${files.length} test files on ${postgres ? 'PostgreSQL (database tests only)' : 'SQLite (all layers)'}`);
// Bound any single test. (Not --test-force-exit: exiting under a live ONNX Runtime worker thread aborts the process.)
// Every database the run creates carries this tag (support/database.ts), so the run drops its own
// and no other run's when it ends.
const run = randomBytes(4).toString('hex');
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit', env: { ...process.env, VEIL_TEST_RUN: run } },
);
if (postgres) await dropRunDatabases(process.env.VEIL_TEST_PG_URL, run);
process.exit(r.status ?? 1);

async function dropRunDatabases(adminUrl, tag) {
  const { default: pg } = await import('pg');
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    const { rows } = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`veil\\_%\\_${tag}\\_%`]);
    for (const { datname } of rows) await c.query(`DROP DATABASE "${datname}" WITH (FORCE)`);
    console.log(`# dropped this run's ${rows.length} test databases`);
  } finally {
    await c.end();
  }
}

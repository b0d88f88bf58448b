#!/usr/bin/env node
// Runs the test suite with Node's test runner (Node 20 does not expand globs itself).
//
// Tests come in layers (test/README.md): unit/ (pure modules), engine/ (the real face engine and
// hostile images), web/ (Debian Chromium), fuzz/ (bounded property runs) touch no database and run
// once per CI run; everything else touches the store and runs once per engine: on SQLite by
// default, and again on PostgreSQL when VEIL_TEST_PG_URL is set (the second pass of .ci/run).
import { spawnSync } from 'node:child_process';
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
const r = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-timeout=600000', ...files],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);

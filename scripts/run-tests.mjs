#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's test runner (Node 20 does not expand globs itself).
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? find(p) : n.endsWith('.test.ts') ? [p] : [];
  });
}

const filter = process.argv.slice(2);
const files = find('test').filter((f) => !filter.length || filter.some((x) => f.includes(x))).sort();
// A failed test can leave a connection open (a pool, a LISTEN client) that would keep its file's
// process alive and CI waiting forever: exit once the tests are done, and bound any single test.
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', '--test-force-exit', '--test-timeout=600000', ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);

import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');
/** Labelled real photos shared by the project (read-only). */
export const FACES = process.env['VEIL_FACES_DIR'] ?? join(REPO, '..', 'shared', 'faces');

export function face(path: string): Buffer {
  return readFileSync(join(FACES, path));
}

export function pairs(set: string): { a: string; b: string; same: boolean }[] {
  return readFileSync(join(FACES, set, 'all_pairs.csv'), 'utf8')
    .trim()
    .split('\n')
    .slice(1)
    .map((l) => {
      const [a, b, s] = l.split(',');
      return { a: `${set}/${a}`, b: `${set}/${b}`, same: s === '1' };
    });
}

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';

export function tempDir(prefix = 'veil-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../src/store/store.js';

/** The engine this run of the suite uses: PostgreSQL when .ci/run exports VEIL_TEST_PG_URL. */
export const ENGINE: 'sqlite' | 'postgres' = process.env['VEIL_TEST_PG_URL'] ? 'postgres' : 'sqlite';

/** A fresh, empty database on the PostgreSQL server behind an admin URL; returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 'veil_t_'): Promise<string> {
  const name = `${prefix}${randomBytes(6).toString('hex')}`;
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  await c.query(`CREATE DATABASE ${name}`);
  await c.end();
  const u = new URL(adminUrl);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, empty database for one test on PostgreSQL runs; undefined on SQLite runs (a temp file is used). */
export async function testDatabaseUrl(): Promise<string | undefined> {
  const admin = process.env['VEIL_TEST_PG_URL'];
  return admin ? createDatabase(admin) : undefined;
}

/** openVeil options that put a test on this run's engine. */
export async function engineOptions(): Promise<{ databaseUrl?: string }> {
  const url = await testDatabaseUrl();
  return url ? { databaseUrl: url } : {};
}

/** Environment for CLI subprocesses: DATABASE_URL on PostgreSQL runs. */
export async function engineEnv(): Promise<Record<string, string>> {
  const url = await testDatabaseUrl();
  return url ? { DATABASE_URL: url } : {};
}

export async function openTestStore(dir: string, databaseUrl?: string): Promise<Store> {
  return openStore({ databaseUrl: databaseUrl ?? (await testDatabaseUrl()), sqlitePath: join(dir, 'veil.db') });
}

import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openStore, type Store } from '../src/store/store.js';

export { tempDir } from './temp-dir.js';

/** The engine this run of the suite uses: PostgreSQL when .ci/run exports VEIL_TEST_PG_URL. */
export const ENGINE: 'sqlite' | 'postgres' = process.env['VEIL_TEST_PG_URL'] ? 'postgres' : 'sqlite';

/** A fresh, empty database on the PostgreSQL server behind an admin URL; returns its URL. */
export async function createDatabase(adminUrl: string, prefix = 'veil_t_'): Promise<string> {
  // The suite runner tags its run's databases so that it can drop them when the run ends.
  const run = /^[a-f0-9]{1,16}$/.test(process.env['VEIL_TEST_RUN'] ?? '') ? `${process.env['VEIL_TEST_RUN']}_` : '';
  const name = `${prefix}${run}${randomBytes(6).toString('hex')}`;
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

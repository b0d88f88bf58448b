import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import pg from 'pg';

export interface DiskFile {
  /** Where the file is, for messages. */
  readonly name: string;
  readonly path: string;
  read(): Buffer;
}

/** Every regular file under `dir`, recursively; `keep` filters by path relative to `dir` and stats. */
export function filesUnder(
  dir: string,
  keep: (rel: string, mtimeMs: number) => boolean = () => true,
  label = dir,
): DiskFile[] {
  const out: DiskFile[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) {
        const rel = relative(dir, p);
        // A file gone between the listing and now (PostgreSQL rewrites pg_internal.init while other
        // sessions work) holds nothing any more: skipped, and read as empty if it goes later.
        const st = statSync(p, { throwIfNoEntry: false });
        if (st && keep(rel, st.mtimeMs)) out.push({ name: `${label}/${rel}`, path: p, read: () => readIfThere(p) });
      }
    }
  };
  walk(dir);
  return out;
}

function readIfThere(p: string): Buffer {
  try {
    return readFileSync(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw e;
  }
}

/**
 * The files of a PostgreSQL cluster that can hold anything of one database written since `sinceMs`:
 * after a CHECKPOINT (dirty pages on disk, dropped relation files unlinked), every file under the data
 * directory except other databases' relation files (base/<their oid>/), modified since then. A file
 * not written since the test began cannot hold what the test wrote.
 */
export async function postgresFiles(adminUrl: string, dataDir: string, dbUrl: string, sinceMs: number) {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  let oid: string;
  try {
    await c.query('checkpoint');
    const name = new URL(dbUrl).pathname.slice(1);
    oid = String((await c.query('select oid from pg_database where datname = $1', [name])).rows[0].oid);
  } finally {
    await c.end();
  }
  return filesUnder(
    dataDir,
    (rel, mtime) => {
      const parts = rel.split('/');
      if (parts[0] === 'base' && parts[1] !== oid) return false;
      return mtime >= sinceMs;
    },
    'PGDATA',
  );
}

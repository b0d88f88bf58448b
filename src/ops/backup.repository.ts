import { sql } from 'kysely';
import type { Executor, Store } from '../store/store.js';

export const backupRepository = {
  /**
   * A consistent copy of the SQLite database as one file without free pages (so without the deleted
   * content a page copy would carry), made while the database stays in use. `path` must not exist
   * or be empty; the caller creates it 0600 first, since SQLite would use the default mode.
   */
  async vacuumInto(store: Store, path: string): Promise<void> {
    await sql`vacuum into ${path}`.execute(store.db);
  },

  /** Of these ids, the subjects the database holds as not erased. */
  async subjectsNotErased(ex: Executor, ids: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .selectFrom('subjects')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 500))
        .where('state', '!=', 'erased')
        .execute();
      out.push(...rows.map((r) => r.id));
    }
    return out;
  },
};

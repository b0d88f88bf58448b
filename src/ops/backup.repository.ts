import { sql } from 'kysely';
import type { Store } from '../store/store.js';

export const backupRepository = {
  /**
   * A consistent copy of the SQLite database as one file without free pages (so without the deleted
   * content a page copy would carry), made while the database stays in use. `path` must not exist
   * or be empty; the caller creates it 0600 first, since SQLite would use the default mode.
   */
  async vacuumInto(store: Store, path: string): Promise<void> {
    await sql`vacuum into ${path}`.execute(store.db);
  },
};

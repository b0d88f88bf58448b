import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/** Schema version 6: index change feed. Released: never edited, a change is a new migration. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  // Every change to who may match appends a row here in its own transaction; each process's
  // in-memory index follows the feed (NOTIFY wakes it on PostgreSQL, a poll catches up).
  await db.schema
    .createTable('index_changes')
    .addColumn('seq', t.serial, (c) => c.primaryKey())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
}

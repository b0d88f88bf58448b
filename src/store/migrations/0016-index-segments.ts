import type { Kysely } from 'kysely';

/**
 * Schema version 16: the sealed index snapshot (src/vector/index-snapshot.ts). One row per segment
 * file (<dataDir>/index/<id>.seg): which model and purpose it holds, the range of subject ids its rows
 * belong to (so a change to a person's face data, in any process, finds the segments holding them
 * without a row per template), and how many rows. The segment's key is a keystore slot named
 * `idxseg:<id>` in key_slots. No biometric data: ids and counts.
 *
 * `templates_matchable` covers start-up's read of which templates may match (ids only, by model and
 * id): without it every row read brings its sealed template's page (42 us a row on SQLite, 15 with it).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('index_segments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('purpose_id', 'text', (c) => c.notNull())
    .addColumn('subject_lo', 'text', (c) => c.notNull())
    .addColumn('subject_hi', 'text', (c) => c.notNull())
    .addColumn('templates', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('templates_matchable')
    .on('templates')
    .columns(['model', 'id', 'subject_id', 'purpose_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('templates_matchable').execute();
  await db.schema.dropTable('index_segments').execute();
}

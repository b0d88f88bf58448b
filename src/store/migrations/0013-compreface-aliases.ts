import type { Kysely } from 'kysely';

/**
 * Schema version 13: the CompreFace-compatible surface. `compreface_aliases` maps a client's subject
 * name, per purpose and case-insensitively, to a Veil subject; `compreface_keys` marks an API key as
 * a compatibility key with its one purpose, the source reference recorded for enrollments under a
 * non-consent basis and the justification recorded for its searches.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('compreface_aliases')
    .addColumn('purpose_id', 'text', (c) => c.notNull())
    .addColumn('alias_key', 'text', (c) => c.notNull())
    .addColumn('alias', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('compreface_aliases_pk', ['purpose_id', 'alias_key'])
    .execute();
  await db.schema.createIndex('compreface_aliases_subject').on('compreface_aliases').column('subject_id').execute();
  await db.schema
    .createTable('compreface_keys')
    .addColumn('key_id', 'text', (c) => c.primaryKey())
    .addColumn('purpose_id', 'text', (c) => c.notNull())
    .addColumn('source_reference', 'text')
    .addColumn('justification', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('compreface_keys').execute();
  await db.schema.dropTable('compreface_aliases').execute();
}

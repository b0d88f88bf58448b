import type { Kysely } from 'kysely';

/**
 * Schema version 17: each index snapshot segment records the change-feed position its rows are
 * current at (`index_segments.feed_seq`: the `since` of the index it was written from). Start-up
 * then re-checks only the people the feed names after it (src/gallery/index-startup.ts) instead of
 * reading which of every template may match. Null (segments written before): unknown, the full
 * check. No biometric data: a sequence number.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('index_segments').addColumn('feed_seq', 'bigint').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('index_segments').dropColumn('feed_seq').execute();
}

import type { Kysely } from 'kysely';

/**
 * Schema version 15: human oversight of identifications (EU AI Act Art. 14(5)). A purpose may
 * require that a match is confirmed by this many different people before it counts
 * (`purposes.confirmations`, null: none); each identification keeps the rule it was made under
 * (`searches.confirmations`), so changing the purpose never changes the state of a past match.
 * `match_confirmations` holds each decision on one candidate of one face of one search: who (key),
 * with which role, confirm or reject, and why (a review, or a person's contest through the rights
 * queue). No biometric data: ids, a decision and a time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('purposes').addColumn('confirmations', 'integer').execute();
  await db.schema.alterTable('searches').addColumn('confirmations', 'integer').execute();
  await db.schema
    .createTable('match_confirmations')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('search_id', 'text', (c) => c.notNull().references('searches.id').onDelete('cascade'))
    .addColumn('face', 'integer', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('decision', 'text', (c) => c.notNull())
    .addColumn('actor_kind', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text', (c) => c.notNull())
    .addColumn('actor_role', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text')
    .addColumn('at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('match_confirmations_match')
    .on('match_confirmations')
    .columns(['search_id', 'face', 'subject_id'])
    .execute();
  await db.schema.createIndex('match_confirmations_subject').on('match_confirmations').column('subject_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('match_confirmations').execute();
  await db.schema.alterTable('searches').dropColumn('confirmations').execute();
  await db.schema.alterTable('purposes').dropColumn('confirmations').execute();
}

import type { Kysely } from 'kysely';

/**
 * Schema version 18: re-embedding runs after a model switch (src/gallery/reembed-runs.service.ts).
 * A run outlives the request that started it, so its state, progress and report live here, where
 * every API process on the database can answer for it and cancel it. Which run may go on is the
 * `models-reembed` lease in job_leases (holder: the run's id), not a column here. No biometric
 * data: ids, counts, and the report (subject, purpose and consent ids of who must re-enroll).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('reembed_runs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('model', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('started_at', 'text', (c) => c.notNull())
    .addColumn('finished_at', 'text')
    .addColumn('done', 'integer', (c) => c.notNull())
    .addColumn('total', 'integer', (c) => c.notNull())
    .addColumn('cancel_requested', 'integer', (c) => c.notNull())
    .addColumn('report', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('reembed_runs').execute();
}

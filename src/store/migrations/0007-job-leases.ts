import type { Kysely } from 'kysely';

/** Schema version 7: job leases. Released: never edited, a change is a new migration. */
export async function up(db: Kysely<unknown>): Promise<void> {
  // Several API processes each have the hourly jobs; a lease lets exactly one run them.
  await db.schema
    .createTable('job_leases')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('holder', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
}

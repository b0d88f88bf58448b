import { sql, type Kysely } from 'kysely';

/**
 * Schema version 19: what an erasure reads, found without reading every row. Measured at 1M people
 * on SQLite (bench/scale/snapshot.ts), an erasure spent most of its time in two scans:
 * - a person's templates, read by `subject_id`, which the indexes held only second (purpose, subject)
 *   or third: 131 ms a read;
 * - the destroyed key slots (keyring.ts's shred, twice an erasure): the index on `destroyed_at` was
 *   never chosen for `destroyed_at is not null`, so every slot was read, 53 ms each time. A partial
 *   index holds only the destroyed ones (a handful: each is forgotten once its tombstone is written).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('templates_subject').on('templates').column('subject_id').execute();
  await db.schema
    .createIndex('key_slots_destroyed_only')
    .on('key_slots')
    .columns(['slot', 'owner_id'])
    .where(sql.ref('destroyed_at'), 'is not', null)
    .execute();
  await db.schema.dropIndex('key_slots_destroyed').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('key_slots_destroyed').on('key_slots').column('destroyed_at').execute();
  await db.schema.dropIndex('key_slots_destroyed_only').execute();
  await db.schema.dropIndex('templates_subject').execute();
}

import { sql, type Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 9: data keys leave the database. `key_slots` says which slot of the keystore file
 * holds an owner's key; the slot number is this table's counter, never reused, so a destroyed key's
 * tombstone is never overwritten by a new key. `keystore_state` binds the database to its keystore
 * file. The rows of `subject_keys` are moved out by the first start that has the master key (a
 * migration has neither the key nor the data directory); on a database with no subjects yet there is
 * nothing to move, and nothing to scrub, so it is marked done here.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('key_slots')
    .addColumn('slot', t.serial, t.neverReusedKey)
    .addColumn('owner_id', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('destroyed_at', 'text')
    .execute();
  // Every erasure asks for the keys marked destroyed and not yet overwritten: usually none.
  await db.schema.createIndex('key_slots_destroyed').on('key_slots').column('destroyed_at').execute();
  await db.schema
    .createTable('keystore_state')
    .addColumn('name', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .execute();
  await sql`insert into keystore_state (name, value)
    select 'legacy-scrubbed', 'nothing to move' where not exists (select 1 from subjects)`.execute(db);
}

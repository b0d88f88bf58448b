import { sql, type Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 8: levels of identity proof and abuse controls. A selfie match no longer acts on
 * its own: face matches wait for the DPO's review on the request. Portal enrollment proves an email
 * address first. Rate limits live in the store (shared by processes, surviving restarts).
 * Idempotency replays are stored sealed, so the plain bodies kept so far (which held tokens and
 * subject ids) are dropped: a retry of a request made before the upgrade runs again.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  const add = (name: string, type: 'text' | 'integer' | 'blob' | 'bytea') =>
    db.schema.alterTable('rights_requests').addColumn(name, type).execute();
  // Subjects the selfie matched that the proven contact does not link, with the scores, as JSON.
  await add('face_matches', 'text');
  // null: nothing to review; 'pending' | 'approved' | 'rejected'.
  await add('review_state', 'text');
  await add('review_subjects', 'text');
  await add('review_note', 'text');
  await add('reviewed_by', 'text');
  await add('reviewed_at', 'text');
  await add('liveness', 'text');
  await add('resends', 'integer');
  await add('fulfil_started_at', 'text');
  await add('fulfil_options', t.bytes);
  await db.schema
    .createTable('portal_enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
    .addColumn('contact_hash', 'text', (c) => c.notNull())
    .addColumn('contact_sealed', t.bytes, (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('code_hash', 'text')
    .addColumn('code_expires_at', 'text')
    .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    // pending (code sent), enrolled, held (the DPO reviews it), withdrawn, expired
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('consent_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('decided_at', 'text')
    .addColumn('decision_note', 'text')
    .execute();
  await db.schema
    .createTable('rate_limits')
    .addColumn('bucket', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'text', (c) => c.notNull())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .execute();
  await sql`delete from idempotency`.execute(db);
}

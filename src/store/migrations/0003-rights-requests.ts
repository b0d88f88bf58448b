import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/** Schema version 3: rights requests and derived artifacts. Released: never edited, a change is a new migration. */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('rights_requests')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('contact_hash', 'text', (c) => c.notNull())
    .addColumn('contact_sealed', t.bytes, (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('claimed_subject_id', 'text')
    .addColumn('claimed_consent_id', 'text')
    .addColumn('details', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('extended_due_at', 'text')
    .addColumn('extension_reason', 'text')
    .addColumn('code_hash', 'text')
    .addColumn('code_expires_at', 'text')
    .addColumn('code_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('verified_at', 'text')
    .addColumn('verification', 'text')
    .addColumn('matched_subjects', 'text', (c) => c.notNull().defaultTo(' '))
    .addColumn('pending_selfie', t.bytes)
    .addColumn('download_token_hash', 'text')
    .addColumn('outcome', 'text')
    .addColumn('denial_reason', 'text')
    .addColumn('denial_ground', 'text')
    .addColumn('closed_at', 'text')
    .execute();
  await db.schema.createIndex('rights_requests_state').on('rights_requests').columns(['state', 'due_at']).execute();
  await db.schema
    .createTable('rights_events')
    .addColumn('request_id', 'text', (c) => c.notNull().references('rights_requests.id').onDelete('cascade'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor', 'text', (c) => c.notNull())
    .addColumn('note', 'text')
    .addPrimaryKeyConstraint('rights_events_pk', ['request_id', 'seq'])
    .execute();
  await db.schema
    .createTable('artifacts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('path', 'text')
    .addColumn('subject_ids', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text')
    .execute();
}

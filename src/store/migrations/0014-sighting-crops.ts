import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 14: the face crop of each sighting, made at ingestion (the person's face with every
 * other face pixelated) and sealed under the subject's data key, so the access export reads it
 * instead of decoding the photo again, and crypto-shredding the key makes it unreadable. One row per
 * sighting; it goes with the sighting's link (`mediaRepository.unlinkSubject*`) and with the face row.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema
    .createTable('sighting_crops')
    .addColumn('face_id', 'text', (c) => c.primaryKey().references('media_faces.id').onDelete('cascade'))
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('sealed', t.bytes, (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sighting_crops_subject').on('sighting_crops').column('subject_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('sighting_crops').execute();
}

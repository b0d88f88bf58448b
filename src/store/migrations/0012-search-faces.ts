import { sql, type Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 12: an identification searches every face of the probe, so the accounting says
 * which face returned which subject. `search_results` gains `face` (the face's position in the
 * search's `faces` list; 0 for searches made before) and its key becomes (search, face, rank);
 * `searches.faces` keeps, as JSON, the box of each face searched (never the pixels). The table is
 * rebuilt because SQLite cannot change a primary key in place.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('searches').addColumn('faces', 'text').execute();
  await db.schema
    .createTable('search_results_by_face')
    .addColumn('search_id', 'text', (c) => c.notNull().references('searches.id').onDelete('cascade'))
    .addColumn('face', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('similarity', t.float, (c) => c.notNull())
    .addColumn('rank', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('search_results_face_pk', ['search_id', 'face', 'rank'])
    .execute();
  await sql`insert into search_results_by_face (search_id, face, subject_id, similarity, rank)
    select search_id, 0, subject_id, similarity, rank from search_results`.execute(db);
  await db.schema.dropTable('search_results').execute();
  await db.schema.alterTable('search_results_by_face').renameTo('search_results').execute();
  await db.schema.createIndex('search_results_subject').on('search_results').column('subject_id').execute();
}

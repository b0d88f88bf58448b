import type { Kysely } from 'kysely';
import { columnTypes } from './column-types.js';

/**
 * Schema version 11: the open-set decision rule. An identification's threshold is derived per search
 * from a target false-positive identification rate (FPIR) and the number of templates searched, so a
 * purpose may set its FPIR (null: the default, 1%), and the search record keeps the gallery size and
 * FPIR its threshold came from (null for searches made before).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  const t = columnTypes(db);
  await db.schema.alterTable('purposes').addColumn('fpir', t.float).execute();
  await db.schema.alterTable('searches').addColumn('gallery_size', 'integer').execute();
  await db.schema.alterTable('searches').addColumn('fpir', t.float).execute();
}

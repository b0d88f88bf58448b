import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Versioned schema migrations, written with Kysely's schema builder so SQLite and PostgreSQL share
 * them. Append only: a released migration is never edited.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Kysely<unknown>): Promise<void>;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit log',
    async up(db) {
      await db.schema
        .createTable('audit_entries')
        .addColumn('seq', 'bigint', (c) => c.primaryKey())
        .addColumn('time', 'text', (c) => c.notNull())
        .addColumn('action', 'text', (c) => c.notNull())
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('purpose_id', 'text')
        .addColumn('subject_ids', 'text', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('leaf_hash', 'blob', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entries_time').on('audit_entries').column('time').execute();
      await db.schema.createIndex('audit_entries_purpose').on('audit_entries').columns(['purpose_id', 'seq']).execute();
      await db.schema
        .createTable('audit_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', 'blob', (c) => c.notNull())
        .addPrimaryKeyConstraint('audit_nodes_pk', ['level', 'idx'])
        .execute();
      await db.schema
        .createTable('audit_heads')
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('root_hash', 'text', (c) => c.notNull())
        .addColumn('timestamp', 'text', (c) => c.notNull())
        .addColumn('signature', 'text', (c) => c.notNull())
        .addColumn('next_key_id', 'text')
        .addPrimaryKeyConstraint('audit_heads_pk', ['size', 'key_id'])
        .execute();
      await db.schema
        .createTable('audit_keys')
        .addColumn('key_id', 'text', (c) => c.primaryKey())
        .addColumn('public_key', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retired_at', 'text')
        .execute();
    },
  },
];

export async function migrate(db: Kysely<Database>, now: () => Date = () => new Date()): Promise<number[]> {
  await db.schema
    .createTable('veil_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const applied = new Set((await db.selectFrom('veil_migrations').select('version').execute()).map((r) => Number(r.version)));
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await db.transaction().execute(async (tx) => {
      await m.up(tx as unknown as Kysely<unknown>);
      await tx.insertInto('veil_migrations').values({ version: m.version, name: m.name, applied_at: now().toISOString() }).execute();
    });
    ran.push(m.version);
  }
  return ran;
}

export { sql };

import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.js';

/**
 * Versioned schema migrations, written with Kysely's schema builder so SQLite and PostgreSQL share
 * them. Append only: a released migration is never edited.
 */
export interface Migration {
  readonly version: number;
  readonly name: string;
  up(db: Kysely<unknown>, t: ColumnTypes): Promise<void>;
}

/** The few column types the two engines spell differently. */
export interface ColumnTypes {
  readonly bytes: 'blob' | 'bytea';
  readonly float: 'real' | 'double precision';
  /** An auto-incrementing integer key (the index change feed's cursor). */
  readonly serial: 'integer' | 'bigserial';
}

export function columnTypes(engine: 'sqlite' | 'postgres'): ColumnTypes {
  return engine === 'postgres'
    ? { bytes: 'bytea', float: 'double precision', serial: 'bigserial' }
    : { bytes: 'blob', float: 'real', serial: 'integer' };
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'audit log',
    async up(db, t) {
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
        .addColumn('leaf_hash', t.bytes, (c) => c.notNull())
        .execute();
      await db.schema.createIndex('audit_entries_time').on('audit_entries').column('time').execute();
      await db.schema.createIndex('audit_entries_purpose').on('audit_entries').columns(['purpose_id', 'seq']).execute();
      await db.schema
        .createTable('audit_nodes')
        .addColumn('level', 'integer', (c) => c.notNull())
        .addColumn('idx', 'bigint', (c) => c.notNull())
        .addColumn('hash', t.bytes, (c) => c.notNull())
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
  {
    version: 2,
    name: 'purposes, subjects, consents, templates, media, searches',
    async up(db, t) {
      const s = db.schema;
      await s
        .createTable('purposes')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('key', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('lawful_basis', 'text', (c) => c.notNull())
        .addColumn('art9_condition', 'text', (c) => c.notNull())
        .addColumn('legal_reference', 'text')
        .addColumn('retention', 'text', (c) => c.notNull())
        .addColumn('recipients', 'text', (c) => c.notNull())
        .addColumn('requires_case_ref', 'integer', (c) => c.notNull())
        .addColumn('keep_source_images', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await s
        .createTable('subjects')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('region', 'text')
        .addColumn('contact_hash', 'text')
        .addColumn('contact_sealed', t.bytes)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('subjects_contact').on('subjects').column('contact_hash').execute();
      await s
        .createTable('subject_keys')
        .addColumn('subject_id', 'text', (c) => c.primaryKey().references('subjects.id').onDelete('cascade'))
        .addColumn('wrapped_key', t.bytes, (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await s
        .createTable('consents')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
        .addColumn('notice_text', 'text', (c) => c.notNull())
        .addColumn('notice_version', 'text', (c) => c.notNull())
        .addColumn('notice_hash', 'text', (c) => c.notNull())
        .addColumn('given_at', 'text', (c) => c.notNull())
        .addColumn('method', 'text', (c) => c.notNull())
        .addColumn('collector', 'text', (c) => c.notNull())
        .addColumn('jurisdiction', 'text', (c) => c.notNull())
        .addColumn('withdrawal_method', 'text', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('state_at', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text')
        .execute();
      await s.createIndex('consents_subject_purpose').on('consents').columns(['subject_id', 'purpose_id']).execute();
      await s
        .createTable('consent_events')
        .addColumn('consent_id', 'text', (c) => c.notNull().references('consents.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('state', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addColumn('actor', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('consent_events_pk', ['consent_id', 'seq'])
        .execute();
      await s
        .createTable('enrollments')
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
        .addColumn('consent_id', 'text')
        .addColumn('source_reference', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('last_interaction_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('enrollments_pk', ['subject_id', 'purpose_id'])
        .execute();
      await s
        .createTable('templates')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull().references('subjects.id').onDelete('cascade'))
        .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('dims', 'integer', (c) => c.notNull())
        .addColumn('quality', 'text', (c) => c.notNull())
        .addColumn('source_sha256', 'text', (c) => c.notNull())
        .addColumn('sealed', t.bytes, (c) => c.notNull())
        .addColumn('image_path', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('templates_purpose').on('templates').columns(['purpose_id', 'subject_id']).execute();
      await s
        .createTable('media')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
        .addColumn('sha256', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('width', 'integer', (c) => c.notNull())
        .addColumn('height', 'integer', (c) => c.notNull())
        .addColumn('stored_path', 'text', (c) => c.notNull())
        .addColumn('ingested_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('media_purpose_sha', ['purpose_id', 'sha256'])
        .execute();
      await s
        .createTable('media_faces')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('media_id', 'text', (c) => c.notNull().references('media.id').onDelete('cascade'))
        .addColumn('box', 'text', (c) => c.notNull())
        .addColumn('det_score', t.float, (c) => c.notNull())
        .addColumn('subject_id', 'text', (c) => c.references('subjects.id').onDelete('set null'))
        .addColumn('similarity', t.float)
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await s.createIndex('media_faces_subject').on('media_faces').column('subject_id').execute();
      await s.createIndex('media_faces_media').on('media_faces').column('media_id').execute();
      await s
        .createTable('searches')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('purpose_id', 'text', (c) => c.notNull().references('purposes.id'))
        .addColumn('actor_kind', 'text', (c) => c.notNull())
        .addColumn('actor_id', 'text', (c) => c.notNull())
        .addColumn('case_ref', 'text')
        .addColumn('justification', 'text')
        .addColumn('probe_sha256', 'text', (c) => c.notNull())
        .addColumn('k', 'integer', (c) => c.notNull())
        .addColumn('threshold', t.float, (c) => c.notNull())
        .addColumn('result_count', 'integer', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
      await s
        .createTable('search_results')
        .addColumn('search_id', 'text', (c) => c.notNull().references('searches.id').onDelete('cascade'))
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('similarity', t.float, (c) => c.notNull())
        .addColumn('rank', 'integer', (c) => c.notNull())
        .addPrimaryKeyConstraint('search_results_pk', ['search_id', 'rank'])
        .execute();
      await s.createIndex('search_results_subject').on('search_results').column('subject_id').execute();
      await s
        .createTable('suppressions')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('sealed', t.bytes, (c) => c.notNull())
        .addColumn('reason', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 3,
    name: 'rights requests and derived artifacts',
    async up(db, t) {
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
    },
  },
  {
    version: 4,
    name: 'API keys and idempotency records',
    async up(db) {
      await db.schema
        .createTable('api_keys')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('role', 'text', (c) => c.notNull())
        .addColumn('purposes', 'text', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('revoked_at', 'text')
        .execute();
      await db.schema
        .createTable('idempotency')
        .addColumn('key', 'text', (c) => c.primaryKey())
        .addColumn('fingerprint', 'text', (c) => c.notNull())
        .addColumn('status', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 5,
    name: 'regulator orders and breach register',
    async up(db) {
      await db.schema
        .createTable('orders')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('authority', 'text', (c) => c.notNull())
        .addColumn('reference', 'text', (c) => c.notNull())
        .addColumn('received_at', 'text', (c) => c.notNull())
        .addColumn('deadline', 'text', (c) => c.notNull())
        .addColumn('demands', 'text', (c) => c.notNull())
        .addColumn('counts_at_receipt', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('closed_at', 'text')
        .execute();
      await db.schema
        .createTable('order_actions')
        .addColumn('order_id', 'text', (c) => c.notNull().references('orders.id').onDelete('cascade'))
        .addColumn('seq', 'integer', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('audit_seq', 'bigint', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('order_actions_pk', ['order_id', 'seq'])
        .execute();
      await db.schema
        .createTable('breaches')
        .addColumn('id', 'text', (c) => c.primaryKey())
        .addColumn('discovered_at', 'text', (c) => c.notNull())
        .addColumn('nature', 'text', (c) => c.notNull())
        .addColumn('categories', 'text', (c) => c.notNull())
        .addColumn('approx_people', 'integer', (c) => c.notNull())
        .addColumn('approx_records', 'integer', (c) => c.notNull())
        .addColumn('consequences', 'text', (c) => c.notNull())
        .addColumn('measures', 'text', (c) => c.notNull())
        .addColumn('notified_at', 'text')
        .addColumn('notification_ref', 'text')
        .addColumn('people_informed', 'integer')
        .addColumn('people_decision', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 6,
    name: 'index change feed',
    async up(db, t) {
      // Every change to who may match appends a row here in its own transaction; each process's
      // in-memory index follows the feed (NOTIFY wakes it on PostgreSQL, a poll catches up).
      await db.schema
        .createTable('index_changes')
        .addColumn('seq', t.serial, (c) => c.primaryKey())
        .addColumn('subject_id', 'text', (c) => c.notNull())
        .addColumn('at', 'text', (c) => c.notNull())
        .execute();
    },
  },
  {
    version: 7,
    name: 'job leases',
    async up(db) {
      // Several API processes each have the hourly jobs; a lease lets exactly one run them.
      await db.schema
        .createTable('job_leases')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('holder', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
    },
  },
];

export interface MigrationStatus {
  readonly applied: readonly { version: number; name: string; appliedAt: string }[];
  readonly pending: readonly { version: number; name: string }[];
  /** Versions recorded in the database that this build does not know: a newer Veil migrated it. */
  readonly unknown: readonly number[];
  readonly latest: number;
}

/** What has been applied and what would run, without changing anything. */
export async function migrationStatus(db: Kysely<Database>): Promise<MigrationStatus> {
  const rows = (await tableExists(db, 'veil_migrations'))
    ? await db.selectFrom('veil_migrations').selectAll().orderBy('version').execute()
    : [];
  const known = new Set(MIGRATIONS.map((m) => m.version));
  const have = new Set(rows.map((r) => Number(r.version)));
  return {
    applied: rows.map((r) => ({ version: Number(r.version), name: r.name, appliedAt: r.applied_at })),
    pending: MIGRATIONS.filter((m) => !have.has(m.version)).map((m) => ({ version: m.version, name: m.name })),
    unknown: [...have].filter((v) => !known.has(v)),
    latest: Math.max(...MIGRATIONS.map((m) => m.version)),
  };
}

async function tableExists(db: Kysely<Database>, name: string): Promise<boolean> {
  const tables = await db.introspection.getTables();
  return tables.some((t) => t.name === name);
}

export async function migrate(
  db: Kysely<Database>,
  engine: 'sqlite' | 'postgres',
  now: () => Date = () => new Date(),
): Promise<number[]> {
  await db.schema
    .createTable('veil_migrations')
    .ifNotExists()
    .addColumn('version', 'integer', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('applied_at', 'text', (c) => c.notNull())
    .execute();
  const applied = new Set(
    (await db.selectFrom('veil_migrations').select('version').execute()).map((r) => Number(r.version)),
  );
  const ran: number[] = [];
  for (const m of MIGRATIONS) {
    if (applied.has(m.version)) continue;
    await db.transaction().execute(async (tx) => {
      await m.up(tx as unknown as Kysely<unknown>, columnTypes(engine));
      await tx
        .insertInto('veil_migrations')
        .values({ version: m.version, name: m.name, applied_at: now().toISOString() })
        .execute();
    });
    ran.push(m.version);
  }
  return ran;
}

export { sql };

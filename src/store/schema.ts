import type { Generated } from 'kysely';
import type { PortalEnrollmentsTable, RateLimitsTable, RightsReviewColumns } from './schema-identity.js';
import type { IndexSegmentsTable, KeySlotsTable, KeystoreStateTable } from './schema-keys.js';
import type { CompreFaceTables } from './schema-compreface.js';
import type { ConfirmationTables } from './schema-confirmations.js';
import type { DrpAgentsTable, DrpCallbacksTable, DrpRequestsTable, RightsAgentColumns } from './schema-drp.js';
import type {
  ConsentEventsTable,
  ConsentsTable,
  EnrollmentsTable,
  MediaFacesTable,
  MediaTable,
  PurposesTable,
  ReembedRunsTable,
  SearchesTable,
  SearchResultsTable,
  SightingCropsTable,
  SubjectKeysTable,
  SubjectsTable,
  SuppressionsTable,
  TemplatesTable,
} from './schema-gallery.js';

export type * from './schema-gallery.js';

/** Tables as Kysely sees them; SQL lives in repositories, never in services. */
export interface AuditEntriesTable {
  seq: number;
  time: string;
  action: string;
  actor_kind: string;
  actor_id: string;
  purpose_id: string | null;
  /** Subject ids, space-separated with leading and trailing spaces, so `like '% id %'` finds them. */
  subject_ids: string;
  /** Canonical JSON of the entry: the bytes that were hashed. */
  body: string;
  leaf_hash: Buffer;
}

export interface AuditNodesTable {
  level: number;
  idx: number;
  hash: Buffer;
}

export interface AuditHeadsTable {
  size: number;
  key_id: string;
  root_hash: string;
  timestamp: string;
  signature: string;
  next_key_id: string | null;
}

export interface AuditKeysTable {
  key_id: string;
  public_key: string;
  created_at: string;
  retired_at: string | null;
}

export interface JobLeasesTable {
  name: string;
  holder: string;
  expires_at: string;
}

/**
 * The schema versions recorded before migrations ran through Kysely's Migrator (versions 1-7). Only
 * databases created by those builds have it; it is kept, never written again, so a rollback to such
 * a build still finds its record (see src/store/migrator.ts).
 */
export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

/** Kysely's Migrator's record: one row per executed migration, `timestamp` an ISO string. */
export interface KyselyMigrationTable {
  name: string;
  timestamp: string;
}

export interface RightsRequestsTable extends RightsReviewColumns, RightsAgentColumns {
  id: string;
  kind: string;
  state: string;
  contact_hash: string;
  contact_sealed: Buffer;
  language: string;
  claimed_subject_id: string | null;
  claimed_consent_id: string | null;
  details: string;
  received_at: string;
  due_at: string;
  extended_due_at: string | null;
  extension_reason: string | null;
  code_hash: string | null;
  code_expires_at: string | null;
  code_attempts: Generated<number>;
  verified_at: string | null;
  verification: string | null;
  /** Space-delimited subject ids proven to be the requester's. */
  matched_subjects: Generated<string>;
  /** The selfie's template, sealed, kept only until an objection is fulfilled. */
  pending_selfie: Buffer | null;
  download_token_hash: string | null;
  outcome: string | null;
  denial_reason: string | null;
  denial_ground: string | null;
  closed_at: string | null;
}

export interface RightsEventsTable {
  request_id: string;
  seq: number;
  state: string;
  at: string;
  actor: string;
  note: string | null;
}

/** Anything derived from templates or personal data (exports, snapshots): erasure finds them here. */
export interface ArtifactsTable {
  id: string;
  kind: string;
  path: string | null;
  subject_ids: string;
  created_at: string;
  expires_at: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  role: string;
  /** JSON array of purpose keys, or ["*"]. */
  purposes: string;
  secret_hash: string;
  created_at: string;
  revoked_at: string | null;
}

export interface IdempotencyTable {
  key: string;
  fingerprint: string;
  status: number;
  body: string;
  created_at: string;
}

export interface OrdersTable {
  id: string;
  authority: string;
  reference: string;
  received_at: string;
  deadline: string;
  /** JSON array of structured demands. */
  demands: string;
  counts_at_receipt: string;
  status: string;
  closed_at: string | null;
}

export interface OrderActionsTable {
  order_id: string;
  seq: number;
  kind: string;
  description: string;
  audit_seq: number;
  at: string;
}

export interface BreachesTable {
  id: string;
  discovered_at: string;
  nature: string;
  categories: string;
  approx_people: number;
  approx_records: number;
  consequences: string;
  measures: string;
  notified_at: string | null;
  notification_ref: string | null;
  people_informed: number | null;
  people_decision: string | null;
  created_at: string;
}

export interface IndexChangesTable {
  seq: Generated<number>;
  subject_id: string;
  at: string;
}

export interface Database extends CompreFaceTables, ConfirmationTables {
  index_changes: IndexChangesTable;
  orders: OrdersTable;
  order_actions: OrderActionsTable;
  breaches: BreachesTable;
  api_keys: ApiKeysTable;
  idempotency: IdempotencyTable;
  rights_requests: RightsRequestsTable;
  rights_events: RightsEventsTable;
  artifacts: ArtifactsTable;
  purposes: PurposesTable;
  subjects: SubjectsTable;
  subject_keys: SubjectKeysTable;
  consents: ConsentsTable;
  consent_events: ConsentEventsTable;
  enrollments: EnrollmentsTable;
  templates: TemplatesTable;
  media: MediaTable;
  media_faces: MediaFacesTable;
  sighting_crops: SightingCropsTable;
  searches: SearchesTable;
  search_results: SearchResultsTable;
  suppressions: SuppressionsTable;
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_heads: AuditHeadsTable;
  audit_keys: AuditKeysTable;
  veil_migrations: MigrationsTable;
  kysely_migration: KyselyMigrationTable;
  job_leases: JobLeasesTable;
  reembed_runs: ReembedRunsTable;
  portal_enrollments: PortalEnrollmentsTable;
  rate_limits: RateLimitsTable;
  key_slots: KeySlotsTable;
  keystore_state: KeystoreStateTable;
  index_segments: IndexSegmentsTable;
  drp_agents: DrpAgentsTable;
  drp_requests: DrpRequestsTable;
  drp_callbacks: DrpCallbacksTable;
}

export type { PortalEnrollmentsTable, RateLimitsTable } from './schema-identity.js';
export type { KeySlotsTable, KeystoreStateTable } from './schema-keys.js';
export type { DrpAgentsTable, DrpCallbacksTable, DrpRequestsTable } from './schema-drp.js';

import type { Generated } from 'kysely';

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

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface PurposesTable {
  id: string;
  key: string;
  name: string;
  description: string;
  lawful_basis: string;
  art9_condition: string;
  legal_reference: string | null;
  retention: string;
  /** JSON array of strings. */
  recipients: string;
  requires_case_ref: number;
  keep_source_images: number;
  status: string;
  created_at: string;
}

export interface SubjectsTable {
  id: string;
  state: string;
  region: string | null;
  contact_hash: string | null;
  /** Email sealed under the subject's data key. */
  contact_sealed: Buffer | null;
  created_at: string;
  updated_at: string;
}

export interface SubjectKeysTable {
  subject_id: string;
  wrapped_key: Buffer;
  created_at: string;
}

export interface ConsentsTable {
  id: string;
  subject_id: string;
  purpose_id: string;
  notice_text: string;
  notice_version: string;
  notice_hash: string;
  given_at: string;
  method: string;
  collector: string;
  jurisdiction: string;
  withdrawal_method: string;
  state: string;
  state_at: string;
  expires_at: string | null;
}

export interface ConsentEventsTable {
  consent_id: string;
  seq: number;
  state: string;
  at: string;
  actor: string;
}

export interface EnrollmentsTable {
  subject_id: string;
  purpose_id: string;
  consent_id: string | null;
  source_reference: string | null;
  created_at: string;
  last_interaction_at: string;
}

export interface TemplatesTable {
  id: string;
  subject_id: string;
  purpose_id: string;
  model: string;
  dims: number;
  /** JSON of the quality measures (no coordinates). */
  quality: string;
  source_sha256: string;
  /** AES-256-GCM(subject data key, float32 LE vector). */
  sealed: Buffer;
  image_path: string | null;
  created_at: string;
}

export interface MediaTable {
  id: string;
  purpose_id: string;
  sha256: string;
  filename: string;
  width: number;
  height: number;
  stored_path: string;
  ingested_at: string;
}

export interface MediaFacesTable {
  id: string;
  media_id: string;
  /** JSON {x, y, width, height} in the photo's pixels. */
  box: string;
  det_score: number;
  subject_id: string | null;
  similarity: number | null;
  created_at: string;
}

export interface SearchesTable {
  id: string;
  kind: string;
  purpose_id: string;
  actor_kind: string;
  actor_id: string;
  case_ref: string | null;
  justification: string | null;
  probe_sha256: string;
  k: number;
  threshold: number;
  result_count: number;
  at: string;
}

export interface SearchResultsTable {
  search_id: string;
  subject_id: string;
  similarity: number;
  rank: number;
}

export interface SuppressionsTable {
  id: string;
  model: string;
  sealed: Buffer;
  reason: string;
  created_at: string;
}

export interface RightsRequestsTable {
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

export interface Database {
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
  searches: SearchesTable;
  search_results: SearchResultsTable;
  suppressions: SuppressionsTable;
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_heads: AuditHeadsTable;
  audit_keys: AuditKeysTable;
  veil_migrations: MigrationsTable;
  job_leases: JobLeasesTable;
}

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

export interface MigrationsTable {
  version: number;
  name: string;
  applied_at: string;
}

export interface Database {
  audit_entries: AuditEntriesTable;
  audit_nodes: AuditNodesTable;
  audit_heads: AuditHeadsTable;
  audit_keys: AuditKeysTable;
  veil_migrations: MigrationsTable;
}

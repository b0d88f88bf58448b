/**
 * A CompreFace subject name (migration 13): a purpose-scoped alias of a Veil subject. `alias_key`
 * is the name as CompreFace compares it (case-insensitive); `subject_id` is null for a name a
 * client declared before any face or consent was linked to it. Erased with the subject, and removed
 * with the purpose's data (FaceDataLifecycle).
 */
export interface CompreFaceAliasesTable {
  purpose_id: string;
  alias_key: string;
  /** The name as the client (or the consent) first spelled it. */
  alias: string;
  subject_id: string | null;
  created_at: string;
}

/** What makes an ordinary API key a CompreFace compatibility key: its one purpose and its accountability. */
export interface CompreFaceKeysTable {
  key_id: string;
  purpose_id: string;
  /** Recorded as the source of every enrollment under a purpose that does not rest on consent. */
  source_reference: string | null;
  /** The accountability record of every search made with the key. */
  justification: string;
  created_at: string;
}

export interface CompreFaceTables {
  compreface_aliases: CompreFaceAliasesTable;
  compreface_keys: CompreFaceKeysTable;
}

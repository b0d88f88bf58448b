/** The gallery's tables: purposes, people, their consents and templates, ingested media and searches. */

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
  /** Target false-positive identification rate of its searches; null: the default (version 11). */
  fpir: number | null;
  /** Different people who must confirm a match before it counts (EU AI Act Art. 14(5)); null: none (version 15). */
  confirmations: number | null;
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

/**
 * Before migration 9, data keys wrapped under the master key. Now empty: the first start with the
 * master key moves every row into the keystore and scrubs the file (src/privacy/keystore-upkeep.ts).
 * Kept so an older build rolled back to still finds its table, and `veil db check` its count.
 */
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

/** A sighting's face crop, sealed under the subject's data key (version 14). */
export interface SightingCropsTable {
  face_id: string;
  subject_id: string;
  sealed: Buffer;
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
  /** JSON [{x, y, width, height}]: the box of each face searched, in the order of `search_results.face` (version 12). */
  faces: string | null;
  /** Matchable templates searched and the FPIR the threshold was derived from (version 11; null before). */
  gallery_size: number | null;
  fpir: number | null;
  /** The purpose's confirmation rule when the search was made (version 15; null: none). */
  confirmations: number | null;
}

export interface SearchResultsTable {
  search_id: string;
  /** Which face of the probe returned this subject: its position in `searches.faces` (0 before version 12). */
  face: number;
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

/** A re-embedding run after a model switch (version 18); who may go on is the job_leases row. */
export interface ReembedRunsTable {
  id: string;
  model: string;
  dry_run: number;
  /** running | done | failed | cancelled */
  state: string;
  started_at: string;
  finished_at: string | null;
  done: number;
  total: number;
  cancel_requested: number;
  /** The run's report as JSON (ids and counts, no biometric data); null until it ends. */
  report: string | null;
  error_code: string | null;
  error_message: string | null;
}

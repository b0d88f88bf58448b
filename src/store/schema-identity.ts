import type { Generated } from 'kysely';

/** Columns of a rights request added with levels of identity proof (migration 8). */
export interface RightsReviewColumns {
  /** JSON { items: [{ subjectId, why, similarity }], selfieLinked }: what waits for the DPO. */
  face_matches: string | null;
  review_state: string | null;
  /** Space-delimited subject ids the DPO approved. */
  review_subjects: string | null;
  review_note: string | null;
  reviewed_by: string | null;
  reviewed_at: string | null;
  liveness: string | null;
  resends: number | null;
  /** Set while a fulfilment runs: a run left set for long was interrupted, and is resumed. */
  fulfil_started_at: string | null;
  /** The DPO's options for that run (a rectification's new address), sealed. */
  fulfil_options: Buffer | null;
}

export interface PortalEnrollmentsTable {
  id: string;
  purpose_id: string;
  contact_hash: string;
  contact_sealed: Buffer;
  language: string;
  code_hash: string | null;
  code_expires_at: string | null;
  code_attempts: Generated<number>;
  state: string;
  consent_id: string | null;
  created_at: string;
  decided_at: string | null;
  decision_note: string | null;
}

export interface RateLimitsTable {
  bucket: string;
  window_start: string;
  hits: number;
}

/**
 * One person's decision on one match (migration 15): a candidate (`subject_id`) of one face of one
 * identification, confirmed or rejected by an actor (an API key, the command line, or the DPO
 * fulfilling a contest, `request_id`). No biometric data.
 */
export interface MatchConfirmationsTable {
  id: string;
  search_id: string;
  face: number;
  subject_id: string;
  /** 'confirm' | 'reject'. */
  decision: string;
  actor_kind: string;
  actor_id: string;
  actor_role: string;
  /** The rights request (a contest) whose fulfilment recorded this decision; null for a review. */
  request_id: string | null;
  at: string;
}

export interface ConfirmationTables {
  match_confirmations: MatchConfirmationsTable;
}

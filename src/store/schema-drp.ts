import type { Generated } from 'kysely';

/** A registered authorized agent (migration 10): the protocol's service directory entry, kept here. */
export interface DrpAgentsTable {
  /** The agent's DRP id, as it signs it in `agent-id`. */
  id: string;
  name: string;
  /** Base64 of the 32-byte Ed25519 public key its messages are signed with. */
  verify_key: string;
  /** The only origin (scheme, host, port) status callbacks may be sent to; none: no callbacks. */
  callback_origin: string | null;
  web_url: string | null;
  /** SHA-256 of the pair-wise bearer token (the token itself is shown once, to the agent). */
  token_hash: string | null;
  token_issued_at: string | null;
  created_at: string;
  revoked_at: string | null;
}

/** What the protocol adds to a request; `id` is the request's id (a rights request's, when it has one). */
export interface DrpRequestsTable {
  id: string;
  agent_id: string;
  /** The DRP action asked for, as normalized (`access`, `deletion`, `sale:opt_out`...). */
  action: string;
  regime: string | null;
  agent_request_id: string | null;
  callback_url: string | null;
  /** SHA-256 of the signed JSON: the same message twice is a replay. */
  message_hash: string;
  received_at: string;
  /** A request answered at once without a rights request (a sale action): its DRP reason. */
  denied_reason: string | null;
}

/** The outbox of status callbacks: one row per change, sent by the process holding the lease. */
export interface DrpCallbacksTable {
  seq: Generated<number>;
  request_id: string;
  agent_id: string;
  /** The request's state at the change, or 'extended'. */
  event: string;
  /** 'pending' | 'delivered' | 'failed' (gave up). */
  status: string;
  attempts: Generated<number>;
  next_at: string;
  created_at: string;
  done_at: string | null;
  /** The last attempt's result: an HTTP status or an error class, never a body. */
  last_result: string | null;
}

/** The agent that filed a rights request, if one did. */
export interface RightsAgentColumns {
  agent_id: string | null;
}

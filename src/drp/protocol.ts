import type { RequestKind, RequestState, RightsRequest } from '../rights/request.js';
import { VERIFY_WINDOW_DAYS, effectiveDue } from '../rights/request.js';
import type { Text } from '../text/text.js';

/**
 * The Data Rights Protocol (consumer-reports-innovation-lab/data-rights-protocol) as Veil speaks
 * it: version 1.0, whose text is 0.9.4's, so both version strings are accepted. This file is the
 * vocabulary and the one table that says what each Veil request state is in the protocol.
 */
export const DRP_VERSION = '1.0';

/** `drp.version` values accepted; absent is accepted too (the conformance app leaves it out of some messages). */
export function supportedVersion(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && /^(0\.9\.4|1\.0(\.\d+)?)$/.test(v.trim()));
}

export type DrpStatusName = 'open' | 'in_progress' | 'fulfilled' | 'revoked' | 'denied' | 'expired';
export type DrpReason =
  | 'need_user_verification'
  | 'suspected_fraud'
  | 'insuf_verification'
  | 'no_match'
  | 'claim_not_covered'
  | 'outside_jurisdiction'
  | 'too_many_requests'
  | 'other';

/** The protocol's actions, normalized to the spec's spelling (§3.01). */
export const DRP_ACTIONS = [
  'access',
  'access:categories',
  'access:specific',
  'deletion',
  'sale:opt_out',
  'sale:opt_in',
] as const;
export type DrpAction = (typeof DRP_ACTIONS)[number];

/** What the directory entry offers: Veil sells nothing, so the sale actions are answered but not offered. */
export const OFFERED_ACTIONS: readonly DrpAction[] = ['access', 'access:categories', 'access:specific', 'deletion'];

/** The Veil right an action is carried out as; null: answered at once, no rights request is made. */
export const RIGHT_OF: Readonly<Record<DrpAction, RequestKind | null>> = {
  access: 'access',
  'access:categories': 'access',
  'access:specific': 'access',
  deletion: 'erasure',
  'sale:opt_out': null,
  'sale:opt_in': null,
};

/**
 * An action as agents send it: the spec writes `sale:opt_out`, the conformance app and others
 * `sale:opt-out`; case and surrounding spaces do not matter; a one-item list (DRP 0.5) is one action.
 */
export function normalizeAction(raw: unknown): DrpAction | null {
  const v = Array.isArray(raw) && raw.length === 1 ? raw[0] : raw;
  if (typeof v !== 'string') return null;
  const a = v
    .trim()
    .toLowerCase()
    .replace(/^sale:opt-(out|in)$/, 'sale:opt_$1');
  return (DRP_ACTIONS as readonly string[]).includes(a) ? (a as DrpAction) : null;
}

/**
 * The one table: every Veil request state as a DRP status (docs: README, "Authorized agents").
 * A request that was never verified within the window timed out its `need_user_verification`
 * stage, which the protocol calls denied/insuf_verification. The DPO's denials carry their reason
 * in `processing_details`. The protocol's `expired` (now is past the status's `expires_at`) is what
 * a fulfilled access request becomes when its result is no longer kept (`statusOf`); a signed
 * message past its own `expires-at` is refused at the door and never becomes a request. No status
 * says `no_match`: the answer is the same whether or not Veil holds anything about the person.
 */
export const STATE_MAP: Readonly<Record<RequestState, { status: DrpStatusName; reason?: DrpReason }>> = {
  received: { status: 'open' },
  identity_pending: { status: 'in_progress', reason: 'need_user_verification' },
  verified: { status: 'in_progress' },
  in_progress: { status: 'in_progress' },
  fulfilled: { status: 'fulfilled' },
  denied: { status: 'denied', reason: 'other' },
  expired: { status: 'denied', reason: 'insuf_verification' },
  withdrawn: { status: 'revoked' },
};

/** The Exercise Status object (§3.03): only its own fields, so conformance checks find nothing unknown. */
export interface DrpStatus {
  readonly request_id: string;
  readonly status: DrpStatusName;
  readonly reason?: DrpReason;
  readonly received_at: string;
  readonly expected_by?: string;
  readonly processing_details?: string;
  readonly user_verification_url?: string;
  readonly results_url?: string;
  readonly expires_at?: string;
  readonly agent_request_id?: string;
}

/** What a status is made of: the protocol's record of the request and, when it has one, the rights request. */
export interface StatusFacts {
  readonly id: string;
  readonly action: DrpAction;
  readonly receivedAt: string;
  readonly agentRequestId: string | null;
  /** Answered at once without a rights request (a sale action). */
  readonly deniedReason: DrpReason | null;
  readonly request: RightsRequest | null;
}

export interface StatusLinks {
  /** The portal page where the person proves the address (and, if they wish, their face). */
  verify(id: string): string;
  /** Where the agent downloads an access request's result with its bearer token. */
  results(id: string): string;
}

/** How long an access result can be downloaded after the request is fulfilled (ExportFiles keeps it 30 days). */
const RESULTS_KEPT_MS = 30 * 86_400_000;

/**
 * The status of a request, as of one of its states: the current one, or the state a callback
 * reports. It never says what a selfie matched: every request with a selfie waits for the DPO's
 * review, whoever it matched, and reads the same.
 */
export function statusOf(
  f: StatusFacts,
  links: StatusLinks,
  t: Text['drp'],
  as?: { state?: RequestState; extended?: boolean; now?: Date },
): DrpStatus {
  const base = {
    request_id: f.id,
    received_at: f.receivedAt,
    ...(f.agentRequestId !== null ? { agent_request_id: f.agentRequestId } : {}),
  };
  const r = f.request;
  if (!r) return { ...base, status: 'denied', reason: f.deniedReason ?? 'other', processing_details: t.notSold };
  const state = as?.state ?? r.state;
  const { status, reason } = STATE_MAP[state];
  const due = effectiveDue(r);
  const out = { ...base, status, ...(reason ? { reason } : {}) };
  if (as?.extended) return { ...out, expected_by: due, processing_details: t.extended(due, r.extensionReason ?? '') };
  switch (state) {
    case 'received':
      return out;
    case 'identity_pending':
      return {
        ...out,
        expected_by: due,
        user_verification_url: links.verify(f.id),
        expires_at: new Date(new Date(r.receivedAt).getTime() + VERIFY_WINDOW_DAYS * 86_400_000).toISOString(),
        processing_details: t.verify,
      };
    case 'verified':
    case 'in_progress':
      return { ...out, expected_by: due, processing_details: r.review?.state === 'pending' ? t.review : t.working };
    case 'fulfilled': {
      if (r.kind !== 'access') return { ...out, processing_details: t.erased };
      const expires = new Date(new Date(r.closedAt ?? r.receivedAt).getTime() + RESULTS_KEPT_MS).toISOString();
      // §3.02 expired: past the expires_at the status gave, the result is gone and so is its link.
      if (as?.now && as.now.toISOString() >= expires) return { ...base, status: 'expired', expires_at: expires };
      return { ...out, results_url: links.results(f.id), expires_at: expires, processing_details: t.ready };
    }
    case 'denied':
      return { ...out, processing_details: t.denied(r.denialReason ?? '', r.denialGround ?? '') };
    case 'expired':
      return { ...out, processing_details: t.notVerified };
    case 'withdrawn':
      return { ...out, processing_details: t.revoked };
  }
}

/** The business's entry for the protocol's service directory (§3.05.2). */
export interface DirectoryEntry {
  readonly id: string;
  readonly name: string;
  readonly logo: null;
  readonly api_base: string;
  readonly supported_actions: readonly DrpAction[];
  readonly supported_verifications: readonly string[];
  readonly web_url: string;
  readonly privacy_policy_url: string;
}

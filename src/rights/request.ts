import type { SubjectId } from '../ids.js';

/** GDPR rights a person can exercise, each with its article. */
export const REQUEST_KINDS = {
  access: 'Art. 15',
  rectification: 'Art. 16',
  erasure: 'Art. 17',
  restriction: 'Art. 18',
  'lift-restriction': 'Art. 18(3)',
  portability: 'Art. 20',
  objection: 'Art. 21',
  'withdraw-consent': 'Art. 7(3)',
  /** Contesting an identification: a human looks at the match again (EU AI Act Art. 14(5), 86; GDPR Art. 22(3)). */
  contest: 'AI Act Art. 14 / GDPR Art. 22(3)',
} as const;
export type RequestKind = keyof typeof REQUEST_KINDS;

/** Modelled on the Data Rights Protocol and Fides. */
export type RequestState =
  'received' | 'identity_pending' | 'verified' | 'in_progress' | 'fulfilled' | 'denied' | 'expired' | 'withdrawn';

const TRANSITIONS: Record<RequestState, readonly RequestState[]> = {
  received: ['identity_pending', 'denied', 'withdrawn', 'expired'],
  identity_pending: ['verified', 'denied', 'withdrawn', 'expired'],
  verified: ['in_progress', 'denied', 'withdrawn'],
  in_progress: ['fulfilled', 'denied'],
  fulfilled: [],
  denied: [],
  expired: [],
  withdrawn: [],
};

/** Kinds only the DPO carries out: the requester's (or an agent's) self-service never runs them; a human decides. */
export const DPO_DECIDES: ReadonlySet<RequestKind> = new Set(['contest']);

export function canMove(from: RequestState, to: RequestState): boolean {
  return TRANSITIONS[from].includes(to);
}

export const OPEN_STATES: readonly RequestState[] = ['received', 'identity_pending', 'verified', 'in_progress'];

/**
 * Who a request may act on without the DPO, and who waits for their review. A proven contact links
 * its own subjects; a selfie match never acts by itself (a face is not a secret), and neither does
 * erasure or restriction of data held under a basis other than consent (Art. 17(3), 18(2)), nor the
 * disclosure of a face its holder enrolled themselves through the portal, where the code proved the
 * address but nothing proved the face was theirs.
 */
export interface ReviewItem {
  readonly subjectId: SubjectId;
  readonly why: 'face-only' | 'non-consent-purpose';
  /** The selfie's best score against this subject, for face-only items. */
  readonly similarity: number | null;
  /** The DPO's decision on this item; absent while it waits. */
  readonly decision?: 'approved' | 'rejected';
}

export type ReviewState = 'pending' | 'approved' | 'rejected';

export interface Review {
  /** 'pending' while any item (or a selfie with no match, kept uniform) waits; else the last decision. */
  readonly state: ReviewState;
  readonly items: readonly ReviewItem[];
  /** Subjects the DPO accepted (a subset of the items). */
  readonly approved: readonly SubjectId[];
  /** Liveness of the selfie used as proof ("not checked" until a liveness check exists). */
  readonly liveness: string;
  readonly note: string | null;
  readonly by: string | null;
  readonly at: string | null;
}

export interface RightsRequest {
  readonly id: string;
  readonly kind: RequestKind;
  readonly state: RequestState;
  readonly language: 'en' | 'fr';
  readonly claimedSubjectId: string | null;
  readonly claimedConsentId: string | null;
  readonly details: string;
  readonly receivedAt: string;
  readonly dueAt: string;
  readonly extendedDueAt: string | null;
  readonly extensionReason: string | null;
  readonly verifiedAt: string | null;
  readonly verification: string | null;
  /** Subjects linked to the proven contact (or a claim the contact proves): the request acts on them. */
  readonly matchedSubjects: readonly SubjectId[];
  readonly review: Review | null;
  readonly outcome: Record<string, unknown> | null;
  readonly denialReason: string | null;
  readonly denialGround: string | null;
  readonly closedAt: string | null;
  /** The authorized agent that filed it for the person (Data Rights Protocol), if one did. */
  readonly agentId: string | null;
  readonly history: readonly { state: RequestState; at: string; actor: string; note: string | null }[];
}

/**
 * The subjects a run may act on: those the proven contact links and those the DPO approved after a
 * face match, less any subject with an item still waiting or rejected. A decision on one item is
 * never a decision on another: a subject approved as a face match still waits for the basis review.
 */
export function actionable(r: Pick<RightsRequest, 'matchedSubjects' | 'review'>): SubjectId[] {
  const items = r.review?.items ?? [];
  const blocked = new Set(items.filter((i) => i.decision !== 'approved').map((i) => i.subjectId));
  const byFace = items.filter((i) => i.why === 'face-only' && i.decision === 'approved').map((i) => i.subjectId);
  return [...new Set([...r.matchedSubjects, ...byFace])].filter((s) => !blocked.has(s));
}

/** Linked subjects whose data under another basis the DPO kept (Art. 17(3)): only their consents go. */
export function keptUnderOtherBasis(r: Pick<RightsRequest, 'matchedSubjects' | 'review'>): SubjectId[] {
  const items = r.review?.items ?? [];
  const kept = items.filter((i) => i.why === 'non-consent-purpose' && i.decision === 'rejected');
  return [...new Set(kept.map((i) => i.subjectId))].filter(
    (s) => !items.some((i) => i.subjectId === s && i.why !== 'non-consent-purpose' && i.decision !== 'approved'),
  );
}

/**
 * Adds calendar months as Regulation 1182/71 counts them: the period ends on the same day of the
 * month, or on the month's last day when that day does not exist (31 January + 1 month = 28/29 February).
 */
export function addCalendarMonths(from: Date, months: number): Date {
  const y = from.getUTCFullYear();
  const m = from.getUTCMonth() + months;
  const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
  const d = new Date(from);
  d.setUTCFullYear(y, m, Math.min(from.getUTCDate(), last));
  return d;
}

/** Art. 12(3): one month from receipt. */
export function dueDate(receivedAt: Date): Date {
  return addCalendarMonths(receivedAt, 1);
}

/** The deadline in force: the extended one if the controller extended it. */
export function effectiveDue(r: Pick<RightsRequest, 'dueAt' | 'extendedDueAt'>): string {
  return r.extendedDueAt ?? r.dueAt;
}

export function isOverdue(r: Pick<RightsRequest, 'state' | 'dueAt' | 'extendedDueAt'>, now: Date): boolean {
  return OPEN_STATES.includes(r.state) && new Date(effectiveDue(r)).getTime() < now.getTime();
}

/** Days left until the deadline in force (negative when overdue). */
export function daysLeft(r: Pick<RightsRequest, 'dueAt' | 'extendedDueAt'>, now: Date): number {
  return Math.floor((new Date(effectiveDue(r)).getTime() - now.getTime()) / 86_400_000);
}

/** How long a requester has to enter the emailed code, and how many tries. */
export { CODE_TTL_MS, CODE_MAX_ATTEMPTS } from '../privacy/code-check.js';
/** Unverified requests expire after this long (the person can simply ask again). */
export const VERIFY_WINDOW_DAYS = 14;

import { canonicalJson, type Json } from './canonical.js';
import { leafHash } from './merkle.js';

/** Every act of processing and administration Veil records. Closed: adding one is a code change. */
export const AUDIT_ACTIONS = [
  'purpose.created',
  'purpose.updated',
  'purpose.suspended',
  'purpose.resumed',
  'consent.given',
  'consent.withdrawn',
  'consent.expired',
  'subject.created',
  'subject.enrolled',
  'enrollment.removed',
  'subject.restricted',
  'subject.unrestricted',
  'subject.rectified',
  'subject.erased',
  /** A subject's record, list entry or photo was shown to an operator or DPO (a disclosure, Art. 15(1)(c)). */
  'subject.viewed',
  /** A client's name for a subject under one purpose (CompreFace-compatible API) was set, renamed or removed. */
  'alias.set',
  'alias.removed',
  'template.added',
  'template.removed',
  /** A template made again from its kept photo under the active embedder (the old model's removed). */
  'template.reembedded',
  /** A re-embedding run started after a model switch: its id, model, dry run or not, templates left. */
  'models.reembed.started',
  /** A re-embedding run ended (done, cancelled or failed): counts re-embedded, to re-enroll, held back. */
  'models.reembed.run',
  'search.performed',
  'verify.performed',
  /** A person confirmed or rejected a match of an identification (EU AI Act Art. 14(5)). */
  'match.confirmed',
  'match.rejected',
  'media.ingested',
  'media.redacted',
  'sighting.created',
  'suppression.added',
  'portal.enrollment.held',
  'rights.request.received',
  'rights.request.verified',
  'rights.request.extended',
  'rights.request.reviewed',
  'rights.request.fulfilled',
  'rights.request.denied',
  'rights.request.withdrawn',
  'rights.request.expired',
  'key.shredded',
  'key.created',
  'key.master.rotated',
  'key.master.resealed',
  'apikey.created',
  'apikey.revoked',
  'audit.key.rotated',
  'audit.exported',
  'retention.run',
  'order.recorded',
  'order.action',
  'breach.recorded',
  'breach.notified',
  'breach.people.decided',
  'order.closed',
  'search.log.expired',
  'media.expired',
  'agent.registered',
  'agent.revoked',
  'agent.paired',
  'agent.request.answered',
  'agent.callback.attempted',
] as const;

export type AuditAction = (typeof AUDIT_ACTIONS)[number];

export type AuditActorKind = 'api-key' | 'user' | 'system' | 'cli' | 'public' | 'agent';

/** Who acted, as the log records it: a kind and an id, never a role or a name. */
export interface AuditActor {
  readonly kind: AuditActorKind;
  readonly id: string;
}

/** What a caller records; the log adds seq, time and the link to the previous entry. */
export interface AuditInput {
  readonly actor: AuditActor;
  readonly action: AuditAction;
  readonly subjectIds?: readonly string[];
  readonly purposeId?: string | null;
  readonly detail?: Readonly<Record<string, Json>>;
}

/** The entry as hashed: canonical JSON of exactly these fields. */
export interface AuditEntry {
  readonly seq: number;
  readonly time: string;
  readonly actor: AuditActor;
  readonly action: AuditAction;
  readonly subjectIds: readonly string[];
  readonly purposeId: string | null;
  readonly detail: Readonly<Record<string, Json>>;
  /** Leaf hash (hex) of entry seq - 1, or 64 zeros for the first: pinpoints an edited entry. */
  readonly prev: string;
}

export const GENESIS_PREV = '0'.repeat(64);

export function entryJson(e: AuditEntry): string {
  return canonicalJson(e as unknown as Json);
}

export function entryLeafHash(e: AuditEntry): Buffer {
  return leafHash(Buffer.from(entryJson(e), 'utf8'));
}

// Keys that would carry biometric or contact data. The audit log is published to regulators and must
// never hold them; a keyed hash of contact data goes under `contactHash`.
const FORBIDDEN_KEYS =
  /^(embedding|template|vector|descriptor|image|imagebytes|selfie|photo|pixels|box|boxes|landmarks|email|phone|contact|name)$/i;
const EMAIL = /[^\s@]+@[^\s@]+\.[A-Za-z]{2,}\b/;

/** Throws when `detail` holds something the audit log must never store (a programming error). */
export function assertNoPersonalData(detail: Json, path = 'detail'): void {
  if (typeof detail === 'string') {
    if (EMAIL.test(detail)) throw new Error(`audit ${path} looks like an email address`);
    if (detail.length > 512) throw new Error(`audit ${path} is too long to be metadata`);
    return;
  }
  if (Array.isArray(detail)) {
    if (detail.length > 64 && detail.every((x) => typeof x === 'number'))
      throw new Error(`audit ${path} looks like a vector`);
    detail.forEach((d, i) => assertNoPersonalData(d, `${path}[${i}]`));
    return;
  }
  if (detail && typeof detail === 'object') {
    for (const [k, v] of Object.entries(detail)) {
      if (FORBIDDEN_KEYS.test(k)) throw new Error(`audit ${path}.${k} may hold biometric or contact data`);
      assertNoPersonalData(v, `${path}.${k}`);
    }
  }
}

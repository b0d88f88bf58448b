import type { Store } from '../store/store.js';
import type { PurposeId, SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { hasControlCharacters, hasVisibleCharacters } from '../visible-text.js';
import type { Purpose } from '../privacy/purpose.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { subjectRepository, type SubjectRow } from '../gallery/subject.repository.js';
import type { Actor, Role } from './actor.js';

/**
 * Which roles may do what. Admin may do everything; a member of the public nothing here (public
 * operations prove identity with emailed codes and tokens instead of a role).
 */
export const PERMISSIONS = {
  'purposes.declare': ['dpo'],
  'purposes.read': ['operator', 'investigator', 'dpo', 'auditor'],
  'purposes.suspend': ['dpo'],
  'consents.record': ['operator'],
  'consents.read': ['operator', 'dpo'],
  'consents.withdraw': ['operator', 'dpo'],
  'gallery.enroll': ['operator'],
  'gallery.search': ['operator', 'investigator'],
  /** Confirming or rejecting a match of an identification (EU AI Act Art. 14(5)): those who may identify. */
  'matches.confirm': ['operator', 'investigator'],
  /** A search's confirmation state: those who identify, and the DPO who answers contests. */
  'matches.read': ['operator', 'investigator', 'dpo'],
  /** Removing every subject or face of a purpose at once (CompreFace's delete-all calls): admin only. */
  'gallery.purge': [],
  'faces.detect': ['operator', 'investigator'],
  'subjects.read': ['operator', 'dpo'],
  'subjects.restrict': ['dpo'],
  'media.ingest': ['operator'],
  'media.read': ['operator', 'dpo'],
  'rights.handle': ['dpo'],
  'audit.read': ['auditor', 'dpo'],
  'keys.manage': [],
  'agents.manage': [],
  'oversight.read': ['dpo', 'auditor'],
  'oversight.manage': ['dpo'],
  'stats.read': ['operator', 'dpo', 'auditor'],
  /** Re-embedding templates under the active model and listing who must re-enroll: admin only. */
  'models.manage': [],
  /** A purpose's operating settings (its target FPIR, its two-person rule): an admin bound to the purpose. */
  'purposes.configure': [],
} as const satisfies Record<string, readonly Role[]>;
export type Permission = keyof typeof PERMISSIONS;

/** What a permission needs of a purpose beyond the binding: processing stops while a purpose is suspended. */
const PROCESSING: ReadonlySet<Permission> = new Set([
  'consents.record',
  'gallery.enroll',
  'gallery.search',
  'matches.confirm',
  'media.ingest',
]);

/**
 * Permissions whose data spans every purpose (the rights queue, the audit log, oversight, keys):
 * a key bound to some purposes would act beyond them, so these need a key bound to all.
 */
const ACROSS_PURPOSES: ReadonlySet<Permission> = new Set([
  'purposes.declare',
  'rights.handle',
  'audit.read',
  'oversight.read',
  'oversight.manage',
  'keys.manage',
  'agents.manage',
  'models.manage',
]);

/** A subject as one actor may see it: only the purposes the actor is bound to. */
export interface SubjectScope {
  readonly subject: SubjectRow;
  /** Purposes of this subject the actor may see; '*' for an actor bound to every purpose. */
  readonly purposes: '*' | ReadonlySet<PurposeId>;
}

export interface SearchAccountability {
  readonly caseRef?: string | undefined;
  readonly justification?: string | undefined;
}

/** A free-text accountability field: trimmed, with visible characters, no control characters. */
export function visibleText(field: string, v: string | undefined): string | null {
  if (v === undefined || v === null) return null;
  if (hasControlCharacters(v)) throw new VeilError('INVALID_INPUT', `${field} contains control characters.`);
  if (!hasVisibleCharacters(v)) return null;
  return v.trim();
}

/**
 * The one place where authorization is decided: role permissions, purpose binding, suspended
 * purposes, search accountability and subject visibility. Services call it on their first line.
 */
export class AccessPolicy {
  constructor(private readonly deps: { store: Store }) {}

  /** Refuses an actor whose role lacks the permission. */
  require(actor: Actor, permission: Permission): void {
    if (actor.role === 'public') throw new VeilError('UNAUTHENTICATED', 'An API key is required.');
    if (actor.role !== 'admin' && !(PERMISSIONS[permission] as readonly Role[]).includes(actor.role)) {
      throw new VeilError('FORBIDDEN', `Role ${actor.role} may not do this (${permission}).`);
    }
    if (ACROSS_PURPOSES.has(permission) && actor.purposes !== '*')
      throw new VeilError(
        'FORBIDDEN',
        `This spans every purpose (${permission}): it needs a key bound to all of them.`,
      );
  }

  bound(actor: Actor, p: Pick<Purpose, 'id' | 'key'>): boolean {
    return actor.purposes === '*' || actor.purposes.includes(p.key) || actor.purposes.includes(p.id);
  }

  /** The purpose, when the actor's role has the permission and the actor is bound to it; processing also needs it active. */
  async purpose(actor: Actor, permission: Permission, ref: string): Promise<Purpose> {
    this.require(actor, permission);
    const p = await purposeRepository.byIdOrKey(this.deps.store.db, ref);
    // A bound key learns nothing about purposes outside its binding, not even whether they exist.
    if (actor.purposes !== '*' && (!p || !this.bound(actor, p)))
      throw new VeilError('FORBIDDEN', `This key is not bound to purpose '${ref}'.`);
    if (!p) throw new VeilError('UNKNOWN_PURPOSE', `No purpose '${ref}'.`);
    if (PROCESSING.has(permission) && p.status === 'suspended') {
      throw new VeilError('PURPOSE_SUSPENDED', `Processing under purpose '${p.key}' is suspended.`);
    }
    return p;
  }

  /** The purposes this actor may see, out of all of them. */
  async purposes(actor: Actor, permission: Permission): Promise<Purpose[]> {
    this.require(actor, permission);
    return (await purposeRepository.list(this.deps.store.db)).filter((p) => this.bound(actor, p));
  }

  /**
   * Why a search is made. Investigators always give a case reference; so does anyone searching a
   * purpose that requires one; everyone else gives at least a justification.
   */
  accountability(
    actor: Actor,
    purpose: Purpose,
    a: SearchAccountability,
  ): { caseRef: string | null; justification: string | null } {
    const caseRef = visibleText('caseRef', a.caseRef);
    const justification = visibleText('justification', a.justification);
    if (actor.role === 'investigator' && !caseRef) {
      throw new VeilError('CASE_REF_REQUIRED', 'Investigator searches need a case reference.');
    }
    if (purpose.requiresCaseRef && !caseRef) {
      throw new VeilError('CASE_REF_REQUIRED', `Searches under '${purpose.key}' need a case reference.`);
    }
    if (!caseRef && !justification) {
      throw new VeilError('CASE_REF_REQUIRED', 'Every search needs a case reference or a justification.');
    }
    return { caseRef, justification };
  }

  /**
   * A subject named by the caller, seen through the actor's purposes. A subject the actor shares no
   * purpose with does not exist for them (UNKNOWN_SUBJECT), so a key cannot probe other galleries.
   */
  async subject(actor: Actor, permission: Permission, subjectId: string): Promise<SubjectScope> {
    this.require(actor, permission);
    const db = this.deps.store.db;
    const s = await subjectRepository.get(db, subjectId);
    const missing = () => new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectId}'.`);
    if (!s) throw missing();
    if (actor.purposes === '*') return { subject: s, purposes: '*' };
    const mine = new Set<PurposeId>();
    const all = await purposeRepository.list(db);
    for (const pid of await subjectRepository.purposesOf(db, s.id as SubjectId)) {
      const p = all.find((x) => x.id === pid);
      if (p && this.bound(actor, p)) mine.add(pid);
    }
    if (!mine.size) throw missing();
    return { subject: s, purposes: mine };
  }
}

/** Whether a scope lets its holder see data of this purpose. */
export function inScope(scope: SubjectScope, purposeId: string): boolean {
  return scope.purposes === '*' || scope.purposes.has(purposeId as PurposeId);
}

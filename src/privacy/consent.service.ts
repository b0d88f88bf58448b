import type { AuditSigningKey } from '../audit/signing-key.js';
import type { Tx } from '../store/store.js';
import type { z } from 'zod';
import { actorLabel, actors, type Actor } from '../auth/actor.js';
import type { Permission } from '../auth/policy.js';
import { newId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { parseInput } from '../validation.js';
import {
  ConsentInputSchema,
  buildReceipt,
  noticeHash,
  type ConsentInput,
  type ConsentReceipt,
  type ConsentRecord,
} from './consent.js';
import { consentRepository as repo } from './consent.repository.js';
import { purposeRepository } from './purpose.repository.js';
import { needsConsent, type Purpose } from './purpose.js';
import type { KeyRing } from './keyring.js';
import { contactHash } from './keys.js';
import { subjectRepository, type SubjectRow } from '../gallery/subject.repository.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { CoreDeps } from '../service-deps.js';
import { aliasRepository as aliases } from '../compreface/alias.repository.js';
import { aliasKey, subjectName } from '../compreface/lenient.js';

/** What withdrawing consent does to the face data resting on it (the face-data lifecycle). */
export interface ConsentLifecycle {
  withdrawConsent(c: ConsentRecord, actor: Actor): Promise<{ templatesDeleted: number }>;
}

/** A consent record without the notice text (which the receipt and the record of the notice carry). */
export type ConsentSummary = Omit<ConsentRecord, 'noticeText'>;

export function summary(c: ConsentRecord): ConsentSummary {
  return Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'noticeText')) as ConsentSummary;
}

export class ConsentService {
  constructor(
    private readonly deps: CoreDeps & {
      keyring: KeyRing;
      vault: TemplateVault;
      signingKey: AuditSigningKey;
      controller: string;
      lifecycle: ConsentLifecycle;
    },
  ) {}

  /**
   * Records consent; creates the subject unless one is named. A named subject must be one the actor
   * shares a purpose with, and a consent never overwrites a contact the subject already has (that is
   * a rectification, with its own proof of identity).
   */
  async give(actor: Actor, raw: ConsentInput): Promise<{ consent: ConsentRecord; receipt: ConsentReceipt }> {
    const input = parseInput(ConsentInputSchema, raw);
    const purpose = await this.deps.policy.purpose(actor, 'consents.record', input.purpose);
    const named = input.subjectId
      ? (await this.deps.policy.subject(actor, 'consents.record', input.subjectId)).subject
      : null;
    return this.record(actor, purpose, input, named);
  }

  /**
   * Consent given by the person themselves in the portal, once they proved their address and ticked
   * the consent box: a new subject, with that address.
   */
  async giveInPortal(
    purpose: Purpose,
    raw: ConsentInput,
  ): Promise<{ consent: ConsentRecord; receipt: ConsentReceipt }> {
    if (!needsConsent(purpose) || purpose.status !== 'active')
      throw new VeilError('INVALID_INPUT', 'This purpose does not take enrollment through the portal.');
    return this.record(
      actors.public('portal'),
      purpose,
      parseInput(ConsentInputSchema, { ...raw, subjectId: undefined }),
      null,
    );
  }

  private async record(
    actor: Actor,
    purpose: Purpose,
    input: z.output<typeof ConsentInputSchema>,
    named: SubjectRow | null,
  ): Promise<{ consent: ConsentRecord; receipt: ConsentReceipt }> {
    if (named?.state === 'erased') throw new VeilError('SUBJECT_ERASED', 'This subject has been erased.');
    const hash = input.contactEmail ? contactHash(this.deps.keyring.master, input.contactEmail) : null;
    if (named && hash && named.contactHash && named.contactHash !== hash) {
      throw new VeilError(
        'CONFLICT',
        'This subject already has a contact address; a consent does not change it (use a rectification request).',
      );
    }
    const now = this.deps.clock.now().toISOString();
    const id = newId.consent();
    const consent = await this.deps.store.transaction(async (tx) => {
      let subjectId = named?.id as SubjectId | undefined;
      if (!subjectId) {
        subjectId = newId.subject();
        await subjectRepository.insert(tx, {
          id: subjectId,
          region: input.region ?? null,
          contactHash: null,
          contactSealed: null,
          at: now,
        });
        await this.deps.audit.append(tx, {
          actor,
          action: 'subject.created',
          subjectIds: [subjectId],
          purposeId: purpose.id,
          detail: {},
        });
      }
      if (input.contactEmail && !named?.contactHash) {
        const key = await this.deps.keyring.getOrCreate(tx, subjectId, now);
        await subjectRepository.setContact(
          tx,
          subjectId,
          hash,
          this.deps.vault.sealContact(key, subjectId, input.contactEmail),
          now,
        );
      }
      const c: ConsentRecord = {
        id,
        subjectId,
        purposeId: purpose.id,
        noticeText: input.noticeText,
        noticeVersion: input.noticeVersion,
        noticeHash: noticeHash(input.noticeText),
        givenAt: now,
        method: input.method,
        collector: input.collector,
        jurisdiction: input.jurisdiction,
        withdrawalMethod: input.withdrawalMethod,
        state: 'given',
        stateAt: now,
        expiresAt: input.expiresAt,
        history: [{ state: 'given', at: now, actor: actorLabel(actor) }],
      };
      await repo.insert(tx, c, actorLabel(actor));
      if (input.alias) await this.linkAlias(tx, actor, purpose, subjectId, input.alias);
      await this.deps.audit.append(tx, {
        actor,
        action: 'consent.given',
        subjectIds: [subjectId],
        purposeId: purpose.id,
        detail: {
          consentId: id,
          noticeVersion: c.noticeVersion,
          noticeHash: c.noticeHash,
          method: c.method,
          jurisdiction: c.jurisdiction,
        },
      });
      return c;
    });
    return { consent, receipt: this.receiptOf(consent, purpose) };
  }

  /**
   * Links the name a CompreFace-compatible client uses to the person who consented. A name another
   * person holds under this purpose is refused; a name a client declared without a face is taken over.
   */
  private async linkAlias(tx: Tx, actor: Actor, purpose: Purpose, subjectId: SubjectId, name: string): Promise<void> {
    const n = subjectName(name);
    const key = aliasKey(n);
    const held = await aliases.get(tx, purpose.id, key);
    if (held?.subjectId && held.subjectId !== subjectId)
      throw new VeilError('CONFLICT', `The name '${n}' already stands for another person under '${purpose.key}'.`);
    if (held?.subjectId === subjectId) return;
    if (held) await aliases.link(tx, purpose.id, key, subjectId);
    else
      await aliases.insert(tx, {
        purposeId: purpose.id,
        aliasKey: key,
        alias: n,
        subjectId,
        at: this.deps.clock.now().toISOString(),
      });
    await this.deps.audit.append(tx, {
      actor,
      action: 'alias.set',
      subjectIds: [subjectId],
      purposeId: purpose.id,
      detail: { linked: true, byConsent: true },
    });
  }

  /** A consent record, for an actor bound to its purpose. */
  async get(actor: Actor, id: string): Promise<ConsentRecord> {
    return this.consentFor(actor, 'consents.read', id);
  }

  /** The role first, then one answer for "no such record" and "not your purpose's", so ids cannot be probed. */
  private async consentFor(actor: Actor, permission: Permission, id: string): Promise<ConsentRecord> {
    this.deps.policy.require(actor, permission);
    const c = await repo.get(this.deps.store.db, id);
    const missing = () => new VeilError('NOT_FOUND', `No consent record '${id}'.`);
    if (!c) throw missing();
    await this.deps.policy.purpose(actor, permission, c.purposeId).catch((e: unknown) => {
      throw e instanceof VeilError && e.code === 'FORBIDDEN' ? missing() : e;
    });
    return c;
  }

  async receipt(actor: Actor, id: string): Promise<ConsentReceipt> {
    const c = await this.get(actor, id);
    const p = await purposeRepository.byIdOrKey(this.deps.store.db, c.purposeId);
    return this.receiptOf(c, p!);
  }

  /**
   * Withdrawal takes effect at once (through the face-data lifecycle). Withdrawing an already
   * withdrawn consent is answered, not an error.
   */
  async withdraw(actor: Actor, id: string): Promise<{ consent: ConsentRecord; templatesDeleted: number }> {
    return this.withdrawRecord(actor, await this.consentFor(actor, 'consents.withdraw', id));
  }

  /** Withdrawal once the caller's right to it is established (a verified rights request, the portal). */
  async withdrawRecord(actor: Actor, c: ConsentRecord): Promise<{ consent: ConsentRecord; templatesDeleted: number }> {
    const { templatesDeleted } = await this.deps.lifecycle.withdrawConsent(c, actor);
    return { consent: (await repo.get(this.deps.store.db, c.id))!, templatesDeleted };
  }

  private receiptOf(c: ConsentRecord, purpose: Parameters<typeof buildReceipt>[1]): ConsentReceipt {
    return buildReceipt(c, purpose, this.deps.controller, this.deps.signingKey.keyId, this.deps.signingKey.privateKey);
  }
}

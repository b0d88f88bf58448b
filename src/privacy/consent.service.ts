import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import { newId, type ConsentId, type PurposeId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import {
  ConsentInputSchema,
  buildReceipt,
  noticeHash,
  type ConsentInput,
  type ConsentReceipt,
  type ConsentRecord,
} from './consent.js';
import { consentRepository as repo } from './consent.repository.js';
import type { PurposeService } from './purpose.service.js';
import type { KeyRing } from './keyring.js';
import { contactHash, seal } from './keys.js';
import { subjectRepository } from '../gallery/subject.repository.js';

/** What withdrawing consent must do to the templates that rest on it (implemented by the gallery). */
export interface ConsentDependents {
  /** Stops matching at once (before the transaction) and deletes within it; returns files to delete after commit. */
  stopMatching(subjectId: SubjectId, purposeId: PurposeId): void;
  deleteTemplates(tx: Tx, subjectId: SubjectId, purposeId: PurposeId, actor: Actor): Promise<(string | null)[]>;
  deleteFiles(paths: (string | null)[]): void;
}

export class ConsentService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      purposes: PurposeService;
      keyring: KeyRing;
      signingKey: AuditSigningKey;
      controller: string;
      dependents: ConsentDependents;
    },
  ) {}

  /** Records consent; creates the subject when none is named. Returns the record and its signed receipt. */
  async give(raw: ConsentInput, actor: Actor): Promise<{ consent: ConsentRecord; receipt: ConsentReceipt }> {
    const parsed = ConsentInputSchema.safeParse(raw);
    if (!parsed.success)
      throw new VeilError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const input = parsed.data;
    const purpose = await this.deps.purposes.active(input.purpose);
    const now = this.deps.clock.now().toISOString();
    const id = newId.consent();
    const consent = await this.deps.store.transaction(async (tx) => {
      let subjectId = input.subjectId as SubjectId | undefined;
      if (subjectId) {
        const s = await subjectRepository.get(tx, subjectId);
        if (!s) throw new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectId}'.`);
        if (s.state === 'erased') throw new VeilError('SUBJECT_ERASED', 'This subject has been erased.');
      } else {
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
      if (input.contactEmail) {
        const key = await this.deps.keyring.getOrCreate(tx, subjectId, now);
        await subjectRepository.setContact(
          tx,
          subjectId,
          contactHash(this.deps.keyring.master, input.contactEmail),
          seal(key, Buffer.from(input.contactEmail.trim()), `veil.contact:${subjectId}`),
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
        history: [{ state: 'given', at: now, actor: `${actor.kind}:${actor.id}` }],
      };
      await repo.insert(tx, c, `${actor.kind}:${actor.id}`);
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
    return {
      consent,
      receipt: buildReceipt(
        consent,
        purpose,
        this.deps.controller,
        this.deps.signingKey.keyId,
        this.deps.signingKey.privateKey,
      ),
    };
  }

  async get(id: string): Promise<ConsentRecord> {
    const c = await repo.get(this.deps.store.db, id);
    if (!c) throw new VeilError('NOT_FOUND', `No consent record '${id}'.`);
    return c;
  }

  async receipt(id: string): Promise<ConsentReceipt> {
    const c = await this.get(id);
    const p = await this.deps.purposes.get(c.purposeId);
    return buildReceipt(c, p, this.deps.controller, this.deps.signingKey.keyId, this.deps.signingKey.privateKey);
  }

  /**
   * Withdrawal takes effect at once: the templates that rest on this consent stop matching before
   * the transaction starts, and are deleted within it together with the state change.
   * Withdrawing an already withdrawn consent is answered, not an error.
   */
  async withdraw(id: string, actor: Actor): Promise<{ consent: ConsentRecord; templatesDeleted: number }> {
    const c = await this.get(id);
    if (c.state !== 'given') return { consent: c, templatesDeleted: 0 };
    this.deps.dependents.stopMatching(c.subjectId, c.purposeId);
    const now = this.deps.clock.now().toISOString();
    const files = await this.deps.store.transaction(async (tx) => {
      await repo.setState(tx, c.id, 'withdrawn', now, `${actor.kind}:${actor.id}`);
      const paths = await this.deps.dependents.deleteTemplates(tx, c.subjectId, c.purposeId, actor);
      await subjectRepository.deleteEnrollment(tx, c.subjectId, c.purposeId);
      await this.deps.audit.append(tx, {
        actor,
        action: 'consent.withdrawn',
        subjectIds: [c.subjectId],
        purposeId: c.purposeId,
        detail: { consentId: c.id, templatesDeleted: paths.length },
      });
      return paths;
    });
    this.deps.dependents.deleteFiles(files);
    return { consent: await this.get(id), templatesDeleted: files.length };
  }

  forSubject(subjectId: SubjectId): Promise<ConsentRecord[]> {
    return repo.forSubject(this.deps.store.db, subjectId);
  }

  async latestGiven(subjectId: SubjectId, purposeId: PurposeId): Promise<ConsentId | undefined> {
    return repo.latestGiven(this.deps.store.db, subjectId, purposeId);
  }
}

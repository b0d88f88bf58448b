import { actors, type Actor } from '../auth/actor.js';
import type { ImageOptions } from '../face/analyzer.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { contactHash, type MasterKey } from '../privacy/keys.js';
import { needsConsent } from '../privacy/purpose.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { noticeFor } from '../privacy/notice.js';
import type { ConsentService } from '../privacy/consent.service.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import type { ConsentReceipt } from '../privacy/consent.js';
import type { RateLimiter } from '../ops/rate-limit.service.js';
import type { Mailer } from '../rights/mailer.js';
import { CODE_TTL_MS, checkCode } from '../privacy/code-check.js';
import { text, type Lang } from '../text/index.js';
import { portalEnrollmentRepository as repo } from './portal-enrollment.repository.js';
import type { GalleryService } from './gallery.service.js';
import { qualityNumbers } from './numbers.js';
import { subjectRepository } from './subject.repository.js';
import { requireLive } from '../face/liveness.js';
import type { FaceFinder } from '../rights/face-finder.js';
import type { CoreDeps } from '../service-deps.js';

export interface PortalPurpose {
  readonly key: string;
  readonly name: string;
  readonly description: string;
  readonly retention: string;
  readonly recipients: readonly string[];
  readonly notice: string;
  readonly noticeVersion: string;
  readonly controller: string;
}

export interface PortalEnrolled {
  readonly subjectId: string;
  readonly consentId: string;
  readonly receipt: ConsentReceipt;
  readonly quality: Record<string, number>;
}

const PORTAL = actors.public('portal');

/**
 * The people's side of enrollment. A person proves an email address with a code, then consents
 * (the separate, unticked box) and gives a selfie. Their answer is the same whether or not the face
 * is on the do-not-enroll list: a face that is goes to the DPO's review instead of the gallery.
 */
export class PortalService {
  constructor(
    private readonly deps: CoreDeps & {
      master: MasterKey;
      secrets: ContactSecrets;
      mailer: Mailer;
      limiter: RateLimiter;
      consents: ConsentService;
      gallery: GalleryService;
      faces: Pick<FaceFinder, 'find'>;
      controller: () => string;
      perContactPerHour: number;
    },
  ) {}

  /** Purposes open to consent, each with the notice shown before consenting. */
  async purposes(lang: Lang): Promise<PortalPurpose[]> {
    return (await purposeRepository.list(this.deps.store.db))
      .filter((p) => p.status === 'active' && needsConsent(p))
      .map((p) => {
        const n = noticeFor(p, this.deps.controller(), lang);
        return {
          key: p.key,
          name: p.name,
          description: p.description,
          retention: p.retention,
          recipients: [...p.recipients],
          controller: this.deps.controller(),
          notice: n.text,
          noticeVersion: n.version,
        };
      });
  }

  /** Step 1: a code to the address. Answered the same for any address. */
  async start(input: { purpose: string; email: string; language: Lang }): Promise<{ enrollmentId: string }> {
    const p = await this.openPurpose(input.purpose);
    await this.deps.limiter.take('contact', input.email.trim().toLowerCase(), this.deps.perContactPerHour, 3_600_000);
    const id = newId.other('pen');
    const { code, hash } = this.deps.secrets.newCode(id);
    const now = this.deps.clock.now();
    await repo.insert(this.deps.store.db, {
      id,
      purposeId: p.id,
      contactHash: contactHash(this.deps.master, input.email),
      contactSealed: this.deps.secrets.sealContact(id, input.email),
      language: input.language,
      codeHash: hash,
      codeExpiresAt: new Date(now.getTime() + CODE_TTL_MS).toISOString(),
      at: now.toISOString(),
    });
    await this.deps.mailer.send({ to: input.email, ...text(input.language).portalCodeMail(p.name, code) });
    return { enrollmentId: id };
  }

  /** Step 2: the code, the consent box and the selfie. */
  async confirm(id: string, input: { code: string; selfie: Uint8Array }, opts?: ImageOptions): Promise<PortalEnrolled> {
    const db = this.deps.store.db;
    const e = await repo.get(db, id);
    if (!e || e.state !== 'pending') throw new VeilError('NOT_FOUND', 'No enrollment waiting for a code; start again.');
    await checkCode({
      expiresAt: e.code_expires_at,
      now: this.deps.clock.now(),
      claimAttempt: (max) => repo.claimCodeAttempt(db, id, max),
      matches: () => this.deps.secrets.codeMatches(id, input.code, e.code_hash),
      restart: 'start again',
    });
    const p = await this.openPurpose(e.purpose_id);
    // The photo is checked before anything is recorded: a bad photo records no consent and no person.
    const checked = { ...opts, liveness: true };
    const { faces, suppressed } = await this.deps.gallery.inspect([input.selfie], checked, { suppressionFirst: false });
    requireLive(faces[0]!.liveness, 'The selfie', 'take a new one, facing the camera in good light');
    // The code proved the address, not the face: a face already enrolled for another address waits for
    // the DPO, or anyone could take over a stranger's face and read it back through an access request.
    const known = await this.knownElsewhere(faces[0]!.embedding, e.contact_hash);
    const lang: Lang = e.language === 'fr' ? 'fr' : 'en';
    const notice = noticeFor(p, this.deps.controller(), lang);
    const email = this.deps.secrets.openContact(id, e.contact_sealed);
    const { consent, receipt } = await this.deps.consents.giveInPortal(p, {
      purpose: p.key,
      noticeText: notice.text,
      noticeVersion: notice.version,
      method: 'portal',
      collector: 'self-service portal',
      contactEmail: email,
    });
    const now = this.deps.clock.now().toISOString();
    if (suppressed || known) {
      await this.deps.store.transaction(async (tx) => {
        await repo.update(tx, id, { state: 'held', consent_id: consent.id, code_hash: null, decided_at: null });
        await this.deps.audit.append(tx, {
          actor: PORTAL,
          action: 'portal.enrollment.held',
          subjectIds: [consent.subjectId],
          purposeId: p.id,
          detail: {
            enrollmentId: id,
            consentId: consent.id,
            reason: suppressed ? 'do-not-enroll list' : 'face already enrolled for another address',
          },
        });
      });
    } else {
      try {
        await this.deps.gallery.enrollUnder(
          PORTAL,
          p,
          { purpose: p.key, consentId: consent.id, images: [input.selfie] },
          opts,
          faces,
        );
      } catch (err) {
        // Nothing half-written: a consent without its enrollment is withdrawn at once.
        await this.deps.consents.withdrawRecord(PORTAL, consent);
        throw err;
      }
      await repo.update(db, id, { state: 'enrolled', consent_id: consent.id, code_hash: null, decided_at: now });
    }
    return { subjectId: consent.subjectId, consentId: consent.id, receipt, quality: qualityNumbers(faces[0]!.quality) };
  }

  private async knownElsewhere(embedding: Float32Array, contactHash: string | null): Promise<boolean> {
    for (const s of (await this.deps.faces.find(embedding)).keys()) {
      // Records kept without an address (a press or watch list) are not someone else's proven address.
      const other = (await subjectRepository.get(this.deps.store.db, s))?.contactHash;
      if (other && other !== contactHash) return true;
    }
    return false;
  }

  /** Enrollments held for review (the face is on the do-not-enroll list, or enrolled for another address), for the DPO. */
  async held(actor: Actor) {
    this.deps.policy.require(actor, 'rights.handle');
    return (await repo.held(this.deps.store.db)).map((e) => ({
      id: e.id,
      purposeId: e.purpose_id,
      consentId: e.consent_id,
      createdAt: e.created_at,
    }));
  }

  /**
   * The DPO's decision on a held enrollment: 'withdraw' the consent (the objection stands), or
   * 'keep' it while they contact the person (who may lift their objection through a rights request).
   */
  async decide(actor: Actor, id: string, decision: 'withdraw' | 'keep', note: string) {
    this.deps.policy.require(actor, 'rights.handle');
    const db = this.deps.store.db;
    const e = await repo.get(db, id);
    if (!e || e.state !== 'held') throw new VeilError('NOT_FOUND', `No held enrollment '${id}'.`);
    if (decision === 'withdraw' && e.consent_id) await this.deps.consents.withdraw(actor, e.consent_id);
    await repo.update(db, id, {
      state: decision === 'withdraw' ? 'withdrawn' : 'held',
      decided_at: this.deps.clock.now().toISOString(),
      decision_note: note,
    });
    return { id, state: decision === 'withdraw' ? 'withdrawn' : 'held' };
  }

  private async openPurpose(ref: string) {
    const p = await purposeRepository.byIdOrKey(this.deps.store.db, ref);
    if (!p || p.status !== 'active' || !needsConsent(p))
      throw new VeilError('INVALID_INPUT', 'This purpose does not take enrollment through the portal.');
    return p;
  }
}

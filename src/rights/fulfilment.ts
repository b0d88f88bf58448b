import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../auth/actor.js';
import type { SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { needsConsent } from '../privacy/purpose.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { text } from '../text/index.js';
import {
  DPO_DECIDES,
  actionable,
  effectiveDue,
  keptUnderOtherBasis,
  type RequestKind,
  type RightsRequest,
  type ReviewItem,
} from './request.js';
import { requestRepository as repo } from './request.repository.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import type { Requester } from './requester.js';
import type { ErasureCertificate } from './certificate.js';
import type { FulfilOptions, HandlerResult, RightHandler } from './handlers/handler.js';
import { moveRequest } from './transitions.js';
import type { SelfieVault } from './selfie-vault.js';

/** Rights whose execution on data held under another basis than consent needs the DPO (Art. 17(3), 18(2)). */
const NEEDS_BASIS_REVIEW: ReadonlySet<RequestKind> = new Set(['erasure', 'objection', 'restriction']);

export interface FulfilResult {
  readonly request: RightsRequest;
  readonly certificate?: ErasureCertificate;
}

/**
 * Carries out a verified request through the handler for its kind. It acts on the subjects linked to
 * the proven contact; subjects found only by face, and erasure or restriction of data held under a
 * basis other than consent, wait for the DPO's review. While a review is pending, the requester gets
 * the part that needs none, and the request stays open.
 */
export class Fulfilment {
  private readonly handlers = new Map<RequestKind, RightHandler>();

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      secrets: ContactSecrets;
      requester: Requester;
      selfies: SelfieVault;
    },
    handlers: readonly RightHandler[],
  ) {
    for (const h of handlers) for (const k of h.kinds) this.handlers.set(k, h);
  }

  /**
   * `mode` 'requester' (self-service) answers what needs no review and leaves the rest pending;
   * 'dpo' needs the review decided first.
   */
  async run(r0: RightsRequest, actor: Actor, opts: FulfilOptions, mode: 'requester' | 'dpo'): Promise<FulfilResult> {
    let r = r0;
    if (r.state === 'fulfilled') return { request: r, ...certificateOf(r) };
    // A contest waits in the DPO's queue: filing it from the portal does not carry it out.
    if (mode === 'requester' && DPO_DECIDES.has(r.kind)) return { request: r };
    if (r.state !== 'verified' && r.state !== 'in_progress') {
      throw new VeilError('INVALID_STATE', `Only a verified request can be fulfilled; this one is ${r.state}.`);
    }
    r = await this.holdForReview(r);
    if (mode === 'dpo' && r.review?.state === 'pending') {
      throw new VeilError(
        'INVALID_STATE',
        'Some subjects found for this request wait for review: approve or reject them first, then fulfil.',
      );
    }
    const targets = actionable(r);
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      if (r.state === 'verified') await moveRequest(this.deps, tx, r, 'in_progress', actor, null, {}, targets);
      await repo.update(tx, r.id, {
        fulfil_started_at: now,
        fulfil_options: Object.keys(opts).length
          ? this.deps.secrets.seal(r.id, 'options', Buffer.from(JSON.stringify(opts)))
          : null,
      });
    });
    const handler = this.handlers.get(r.kind);
    if (!handler) throw new VeilError('INTERNAL', `No handler for ${r.kind}.`);
    const pending = r.review?.state === 'pending';
    // Nothing to act on yet: an answer to an access request is still given now; an action waits whole.
    const idle = pending && !targets.length && r.kind !== 'access' && r.kind !== 'portability';
    const result: HandlerResult = idle
      ? { outcome: { subjects: 0 } }
      : await handler.fulfil({
          request: r,
          targets,
          consentsOnly: keptUnderOtherBasis(r),
          actor,
          opts,
          selfie: await this.selfie(r),
          now,
        });
    const outcome = { ...result.outcome, ...(pending ? { partial: true, review: 'pending' } : {}) };
    await this.deps.store.transaction(async (tx) => {
      // The sealed selfie survives an access answer for a day, so the person can still object from the portal.
      const keepSelfie = pending || r.kind === 'access' || r.kind === 'portability';
      await repo.update(tx, r.id, { outcome: JSON.stringify(outcome), fulfil_started_at: null, fulfil_options: null });
      if (!keepSelfie) {
        await repo.clearSelfies(tx, [r.id]);
        await this.deps.selfies.forget(tx, [r.id]);
      }
      if (!pending) {
        const erasure = r.kind === 'erasure' || r.kind === 'objection';
        await moveRequest(
          this.deps,
          tx,
          { id: r.id, state: 'in_progress' },
          'fulfilled',
          actor,
          null,
          { onTime: now <= effectiveDue(r) },
          erasure ? [] : targets,
        );
      }
    });
    if (!pending)
      await this.deps.requester.mail(
        r.id,
        text(r.language).closedMail(r.id, 'fulfilled', summary(r, result, r.language)),
      );
    return {
      request: (await repo.get(this.deps.store.db, r.id))!,
      ...(result.certificate ? { certificate: result.certificate } : {}),
    };
  }

  /** Options a DPO gave for a run that a crash interrupted. */
  async interruptedOptions(r: RightsRequest): Promise<FulfilOptions> {
    const row = await repo.row(this.deps.store.db, r.id);
    return row?.fulfil_options
      ? JSON.parse(this.deps.secrets.open(r.id, 'options', row.fulfil_options).toString('utf8'))
      : {};
  }

  /**
   * Adds what this run may not do without the DPO to the review: erasure or restriction of data held
   * under another basis than consent. Checked on every run, whatever was decided before: a decision on
   * face matches is not one on the basis.
   */
  private async holdForReview(r: RightsRequest): Promise<RightsRequest> {
    if (!NEEDS_BASIS_REVIEW.has(r.kind)) return r;
    const why = 'non-consent-purpose' as const;
    const prior = r.review?.items ?? [];
    const already = new Set(prior.filter((i) => i.why === why).map((i) => i.subjectId));
    const candidates = [
      ...r.matchedSubjects,
      ...prior.filter((i) => i.decision === 'approved').map((i) => i.subjectId),
    ];
    const items: ReviewItem[] = [];
    for (const s of new Set(candidates)) {
      if (already.has(s)) continue;
      if (await this.heldUnderOtherBasis(s)) items.push({ subjectId: s, why, similarity: null });
    }
    if (!items.length) return r;
    const row = (await repo.row(this.deps.store.db, r.id))!;
    const selfieLinked = row.face_matches ? Boolean(JSON.parse(row.face_matches).selfieLinked) : false;
    await repo.update(this.deps.store.db, r.id, {
      review_state: 'pending',
      face_matches: JSON.stringify({ selfieLinked, items: [...prior, ...items] }),
      liveness: row.liveness ?? 'not applicable',
    });
    return (await repo.get(this.deps.store.db, r.id))!;
  }

  private async heldUnderOtherBasis(s: SubjectId): Promise<boolean> {
    const purposes = await purposeRepository.list(this.deps.store.db);
    return (await subjects.enrollments(this.deps.store.db, s)).some((e) => {
      const p = purposes.find((x) => x.id === e.purpose_id);
      return p !== undefined && !needsConsent(p);
    });
  }

  /** The selfie may block a face only when it is the requester's: it matched their linked subject, or the DPO approved. */
  private async selfie(r: RightsRequest): Promise<Float32Array | null> {
    const row = await repo.row(this.deps.store.db, r.id);
    if (!row?.pending_selfie) return null;
    const selfieLinked = row.face_matches ? Boolean(JSON.parse(row.face_matches).selfieLinked) : false;
    const items = r.review?.items ?? [];
    const approvedByDpo =
      items.some((i) => i.why === 'face-only' && i.decision === 'approved') ||
      (r.review?.state === 'approved' && !items.length);
    if (!selfieLinked && !approvedByDpo) return null;
    return this.deps.selfies.open(this.deps.store.db, r.id, row.pending_selfie);
  }
}

function certificateOf(r: RightsRequest): { certificate?: ErasureCertificate } {
  const c = r.outcome?.['certificate'];
  return c ? { certificate: c as ErasureCertificate } : {};
}

function summary(r: RightsRequest, result: HandlerResult, lang: 'en' | 'fr'): string {
  const t = text(lang).outcome;
  const o = result.outcome;
  if ((r.kind === 'access' || r.kind === 'portability') && o['nothingHeld']) return t.nothingHeld;
  if (r.kind === 'access' || r.kind === 'portability') return t.ready;
  if (r.kind === 'erasure' || r.kind === 'objection') return t.erased;
  return t.done;
}

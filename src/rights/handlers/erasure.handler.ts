import type { Store } from '../../store/store.js';
import type { FaceDataLifecycle } from '../../gallery/face-data.lifecycle.js';
import type { SuppressionList } from '../../gallery/suppression.js';
import type { ConsentService } from '../../privacy/consent.service.js';
import { withdrawConsents } from './withdrawal.handler.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Erasure (Art. 17) and objection (Art. 21): erased with a signed certificate; an objection also blocks the face. */
export class ErasureHandler implements RightHandler {
  readonly kinds = ['erasure', 'objection'] as const;

  constructor(
    private readonly deps: {
      store: Store;
      lifecycle: FaceDataLifecycle;
      suppression: SuppressionList;
      consents: ConsentService;
      modelId: string;
    },
  ) {}

  async fulfil({
    request: r,
    targets,
    consentsOnly,
    actor,
    opts,
    selfie,
    now,
  }: HandlerContext): Promise<HandlerResult> {
    const certificate = await this.deps.lifecycle.erase(targets, actor, r.id);
    // Data the DPO kept under another basis (Art. 17(3)) stays; what rested on consent goes.
    const consentsWithdrawn = await withdrawConsents(this.deps, consentsOnly, actor);
    let suppressionId: string | null = null;
    if (selfie && (r.kind === 'objection' || opts.suppress)) {
      const reason =
        r.kind === 'objection' ? 'objection (Art. 21): do not enroll' : 'erasure with do-not-enroll (Art. 17)';
      suppressionId = await this.deps.suppression.add(actor, {
        embedding: selfie,
        model: this.deps.modelId,
        reason,
        at: now,
        requestId: r.id,
      });
    }
    return {
      certificate,
      outcome: {
        certificate,
        suppressionId,
        erased: certificate.subjects.filter((s) => !s.alreadyErased).length,
        alreadyErased: certificate.subjects.filter((s) => s.alreadyErased).length,
        keptUnderOtherBasis: consentsOnly.length,
        consentsWithdrawn,
        nothingHeld: targets.length === 0 && consentsOnly.length === 0,
      },
    };
  }
}

import type { CoreDeps } from '../../service-deps.js';
import { MatchConfirmations } from '../../gallery/confirmation.service.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/**
 * A contested identification (EU AI Act Art. 14 and 86, GDPR Art. 22(3)): the person says a match
 * was wrong or asks for a human to look at it again. The DPO sees the searches that returned them
 * (RightsQueue.get), and fulfilling the request upholds the contest: every match of the person's
 * subjects is rejected in the DPO's name, with the request as its reason, so nothing downstream
 * counts it any more. A contest the DPO finds unfounded is denied with its reason, as any request.
 */
export class ContestHandler implements RightHandler {
  readonly kinds = ['contest'] as const;
  private readonly matches: MatchConfirmations;

  constructor(private readonly deps: CoreDeps) {
    this.matches = new MatchConfirmations(deps);
  }

  async fulfil({ request: r, targets, actor }: HandlerContext): Promise<HandlerResult> {
    let rejected = 0;
    await this.deps.store.transaction(async (tx) => {
      for (const s of targets) rejected += await this.matches.rejectAllOf(tx, actor, s, r.id);
    });
    return { outcome: { subjects: targets.length, matchesRejected: rejected } };
  }
}

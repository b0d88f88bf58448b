import type { Store } from '../../store/store.js';
import { consentRepository } from '../../privacy/consent.repository.js';
import type { ConsentService } from '../../privacy/consent.service.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Withdrawal of consent (Art. 7(3)): every given consent of the person, or the one their receipt names. */
export class WithdrawalHandler implements RightHandler {
  readonly kinds = ['withdraw-consent'] as const;

  constructor(private readonly deps: { store: Store; consents: ConsentService }) {}

  async fulfil({ request: r, targets, actor }: HandlerContext): Promise<HandlerResult> {
    let withdrawn = 0;
    for (const s of targets) {
      for (const c of await consentRepository.forSubject(this.deps.store.db, s)) {
        if (c.state === 'given' && (!r.claimedConsentId || r.claimedConsentId === c.id)) {
          await this.deps.consents.withdrawRecord(actor, c);
          withdrawn++;
        }
      }
    }
    return { outcome: { consentsWithdrawn: withdrawn } };
  }
}

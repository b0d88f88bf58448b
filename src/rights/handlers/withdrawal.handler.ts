import type { Store } from '../../store/store.js';
import type { Actor } from '../../auth/actor.js';
import type { SubjectId } from '../../ids.js';
import { consentRepository } from '../../privacy/consent.repository.js';
import type { ConsentService } from '../../privacy/consent.service.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Withdraws the given consents of these subjects (or only the one named), through the consent service. */
export async function withdrawConsents(
  deps: { store: Store; consents: ConsentService },
  subjectIds: readonly SubjectId[],
  actor: Actor,
  only: string | null = null,
): Promise<number> {
  let withdrawn = 0;
  for (const s of subjectIds) {
    for (const c of await consentRepository.forSubject(deps.store.db, s)) {
      if (c.state === 'given' && (!only || only === c.id)) {
        await deps.consents.withdrawRecord(actor, c);
        withdrawn++;
      }
    }
  }
  return withdrawn;
}

/** Withdrawal of consent (Art. 7(3)): every given consent of the person, or the one their receipt names. */
export class WithdrawalHandler implements RightHandler {
  readonly kinds = ['withdraw-consent'] as const;

  constructor(private readonly deps: { store: Store; consents: ConsentService }) {}

  async fulfil({ request: r, targets, actor }: HandlerContext): Promise<HandlerResult> {
    return { outcome: { consentsWithdrawn: await withdrawConsents(this.deps, targets, actor, r.claimedConsentId) } };
  }
}

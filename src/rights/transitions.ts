import type { Clock } from '../clock.js';
import type { Executor } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actorLabel, type Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { canMove, type RequestState } from './request.js';
import { requestRepository as repo } from './request.repository.js';
import { queueAgentCallback } from '../drp/outbox.js';

const ACTION = {
  received: 'rights.request.received',
  identity_pending: 'rights.request.received',
  verified: 'rights.request.verified',
  in_progress: 'rights.request.verified',
  fulfilled: 'rights.request.fulfilled',
  denied: 'rights.request.denied',
  expired: 'rights.request.expired',
  withdrawn: 'rights.request.withdrawn',
} as const;

/**
 * Every state change of a request: the row, its history event, its audit entry and, for a request
 * an authorized agent filed, the status callback it is owed, in one transaction.
 */
export async function moveRequest(
  deps: { clock: Clock; audit: AuditLog },
  tx: Executor,
  r: { id: string; state: RequestState },
  to: RequestState,
  actor: Actor,
  note: string | null,
  detail: Record<string, string | number | boolean | null> = {},
  subjectIds: readonly string[] = [],
): Promise<void> {
  if (!canMove(r.state, to)) throw new VeilError('INVALID_STATE', `A request in state ${r.state} cannot become ${to}.`);
  const at = deps.clock.now().toISOString();
  const moved = await repo.moveState(tx, r.id, r.state, {
    state: to,
    ...(['fulfilled', 'denied', 'expired', 'withdrawn'].includes(to) ? { closed_at: at } : {}),
  });
  if (!moved) throw new VeilError('INVALID_STATE', `This request is no longer ${r.state}.`);
  await repo.addEvent(tx, r.id, to, at, actorLabel(actor), note);
  await deps.audit.append(tx, {
    actor,
    action: ACTION[to],
    subjectIds,
    detail: { requestId: r.id, state: to, ...detail },
  });
  await queueAgentCallback(tx, r.id, to, at);
}

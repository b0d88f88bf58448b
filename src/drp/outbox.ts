import type { Executor } from '../store/store.js';
import type { RequestState } from '../rights/request.js';
import { STATE_MAP } from './protocol.js';
import { drpRepository } from './drp.repository.js';

/**
 * A change of a request an agent filed, queued as a status callback in the transaction of the
 * change: it is sent after commit by the one process holding the outbox lease, never by the request
 * that made the change. A change that leaves the DRP status as it was (verified, then in progress)
 * is not sent twice; a new deadline always is. Requests without a callback queue nothing.
 */
export async function queueAgentCallback(
  tx: Executor,
  requestId: string,
  event: RequestState | 'extended',
  at: string,
): Promise<void> {
  const d = await drpRepository.request(tx, requestId);
  if (!d?.callback_url) return;
  if (event !== 'extended') {
    const last = await drpRepository.lastCallback(tx, requestId);
    // The agent learnt the first state (waiting for the person's proof) from the answer to its request.
    const prev = STATE_MAP[(last?.event ?? 'identity_pending') as RequestState];
    const next = STATE_MAP[event];
    if (prev.status === next.status && prev.reason === next.reason) return;
  }
  await drpRepository.enqueueCallback(tx, { requestId, agentId: d.agent_id, event, at });
}

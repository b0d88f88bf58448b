import type { Executor } from '../store/store.js';
import type { DrpCallbacksTable } from '../store/schema.js';
import type { Updateable } from 'kysely';

/** What the protocol adds to a request, and the outbox of its status callbacks. */
export const drpRepository = {
  async insertRequest(
    ex: Executor,
    r: {
      id: string;
      agentId: string;
      action: string;
      regime: string | null;
      agentRequestId: string | null;
      callbackUrl: string | null;
      messageHash: string;
      receivedAt: string;
      deniedReason: string | null;
    },
  ): Promise<void> {
    await ex
      .insertInto('drp_requests')
      .values({
        id: r.id,
        agent_id: r.agentId,
        action: r.action,
        regime: r.regime,
        agent_request_id: r.agentRequestId,
        callback_url: r.callbackUrl,
        message_hash: r.messageHash,
        received_at: r.receivedAt,
        denied_reason: r.deniedReason,
      })
      .execute();
  },

  async request(ex: Executor, id: string) {
    return ex.selectFrom('drp_requests').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async byMessage(ex: Executor, agentId: string, hash: string) {
    return ex
      .selectFrom('drp_requests')
      .select('id')
      .where('agent_id', '=', agentId)
      .where('message_hash', '=', hash)
      .executeTakeFirst();
  },

  /** Requests an agent filed whose person has proven the address and that nothing has carried out yet. */
  async verifiedAgentRequests(ex: Executor): Promise<{ id: string; agentId: string }[]> {
    const rows = await ex
      .selectFrom('rights_requests')
      .select(['id', 'agent_id'])
      .where('agent_id', 'is not', null)
      .where('state', '=', 'verified')
      .orderBy('received_at')
      .execute();
    return rows.map((r) => ({ id: r.id, agentId: r.agent_id! }));
  },

  /** The last state change queued for a request (new deadlines aside). */
  async lastCallback(ex: Executor, requestId: string) {
    return ex
      .selectFrom('drp_callbacks')
      .select(['seq', 'event'])
      .where('request_id', '=', requestId)
      .where('event', '!=', 'extended')
      .orderBy('seq', 'desc')
      .executeTakeFirst();
  },

  async enqueueCallback(ex: Executor, c: { requestId: string; agentId: string; event: string; at: string }) {
    await ex
      .insertInto('drp_callbacks')
      .values({
        request_id: c.requestId,
        agent_id: c.agentId,
        event: c.event,
        status: 'pending',
        attempts: 0,
        next_at: c.at,
        created_at: c.at,
        done_at: null,
        last_result: null,
      })
      .execute();
  },

  /**
   * The callbacks to attempt now: each request's oldest pending one (an agent learns a request's changes
   * in order), if it is due. Callbacks backing off are not in the list, so they never crowd out due ones.
   */
  async dueCallbacks(ex: Executor, now: string, limit: number) {
    return ex
      .selectFrom('drp_callbacks')
      .selectAll()
      .where('status', '=', 'pending')
      .where('next_at', '<=', now)
      .where('seq', 'in', (eb) =>
        eb
          .selectFrom('drp_callbacks as o')
          .select((o) => o.fn.min<number>('o.seq').as('first'))
          .where('o.status', '=', 'pending')
          .groupBy('o.request_id'),
      )
      .orderBy('seq')
      .limit(limit)
      .execute();
  },

  /**
   * An attempt's outcome, only if the callback is still as the attempt found it (pending, after
   * `attempts` tries): an attempt that outlived its sender's lease must not undo another process's.
   */
  async settleAttempt(
    ex: Executor,
    seq: number,
    attempts: number,
    set: Updateable<DrpCallbacksTable>,
  ): Promise<boolean> {
    const r = await ex
      .updateTable('drp_callbacks')
      .set(set)
      .where('seq', '=', seq)
      .where('status', '=', 'pending')
      .where('attempts', '=', attempts)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};

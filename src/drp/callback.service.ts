import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actors } from '../auth/actor.js';
import { opsRepository } from '../ops/ops.repository.js';
import type { AgentRegistry } from './agent-registry.service.js';
import type { DrpService } from './drp.service.js';
import { drpRepository as repo } from './drp.repository.js';
import { postCallback, type CallbackPolicy } from './callback-http.js';

/** Waits before the next attempt after each failed one; past the last, the callback is given up. */
export const BACKOFF_MS = [1_000, 5_000, 30_000, 120_000, 600_000, 3_600_000, 6 * 3_600_000, 24 * 3_600_000];

/** Outlives several runs, so the holder keeps it while it lives and another process takes over soon after. */
const LEASE_MS = 30_000;
/** Agents whose callbacks are sent at once, each agent's one after the other (an agent that hangs holds one lane). */
const LANES = 4;

const SENDER = actors.system('drp-callbacks');

type Pending = Awaited<ReturnType<typeof repo.dueCallbacks>>[number];

/**
 * The status callbacks owed to agents, sent from the durable outbox by the one process holding its
 * lease, in order per request, with retries and backoff; a request never waits for its callback.
 * Several agents are served at once, so one that hangs (each attempt up to the HTTP timeout) delays
 * only its own callbacks.
 * Every attempt is in the audit log: which request and agent, which status, the HTTP status or the
 * error class. Never the callback URL, never a body, nothing about the person.
 */
export class CallbackOutbox {
  private running = false;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      drp: DrpService;
      agents: AgentRegistry;
      http: CallbackPolicy;
    },
  ) {}

  /**
   * One pass, when this process holds the lease: carry out the requests whose person has proven
   * the address, then send what is due. Passes of one process never overlap.
   */
  async run(holder: string, log: (line: string) => void = () => undefined): Promise<{ sent: number } | null> {
    if (this.running) return null;
    this.running = true;
    try {
      const now = this.deps.clock.now();
      if (!(await opsRepository.tryLease(this.deps.store.db, 'drp-outbox', holder, now, LEASE_MS))) return null;
      // No attempt starts that could outlast the lease: past it another process may send the same callback.
      const until = performance.now() + LEASE_MS - this.deps.http.timeoutMs - 5_000;
      await this.deps.drp.advance(log);
      return { sent: await this.sendDue(until) };
    } finally {
      this.running = false;
    }
  }

  private async sendDue(until: number): Promise<number> {
    const due = await repo.dueCallbacks(this.deps.store.db, this.deps.clock.now().toISOString(), 500);
    const byAgent = new Map<string, Pending[]>();
    for (const c of due) byAgent.set(c.agent_id, [...(byAgent.get(c.agent_id) ?? []), c]);
    const lanes = [...byAgent.values()];
    let sent = 0;
    const lane = async () => {
      for (let next = lanes.shift(); next; next = lanes.shift())
        for (const c of next) {
          if (performance.now() > until) return;
          if (await this.attempt(c)) sent++;
        }
    };
    await Promise.all(Array.from({ length: Math.min(LANES, lanes.length) }, lane));
    return sent;
  }

  private async attempt(c: Pending): Promise<boolean> {
    const agent = await this.deps.agents.get(c.agent_id);
    const d = await repo.request(this.deps.store.db, c.request_id);
    const status = await this.deps.drp.statusFor(c.request_id, c.event);
    const res =
      agent && !agent.revokedAt && d?.callback_url
        ? await postCallback(d.callback_url, agent.callbackOrigin, status, this.deps.http)
        : { ok: false, result: 'agent-revoked' };
    const attempts = c.attempts + 1;
    // A URL off the agent's origin, or a revoked agent, will not get better by waiting.
    const final = res.result === 'agent-revoked' || res.result === 'blocked-origin' || attempts > BACKOFF_MS.length;
    const outcome = res.ok ? 'delivered' : final ? 'failed' : 'retry';
    const now = this.deps.clock.now();
    await this.deps.store.transaction(async (tx) => {
      const settled = await repo.settleAttempt(tx, c.seq, c.attempts, {
        attempts,
        status: outcome === 'retry' ? 'pending' : outcome,
        next_at: outcome === 'retry' ? new Date(now.getTime() + BACKOFF_MS[attempts - 1]!).toISOString() : c.next_at,
        done_at: outcome === 'retry' ? null : now.toISOString(),
        last_result: res.result,
      });
      await this.deps.audit.append(tx, {
        actor: SENDER,
        action: 'agent.callback.attempted',
        detail: {
          requestId: c.request_id,
          agentId: c.agent_id,
          callback: c.seq,
          attempt: attempts,
          status: status.status,
          result: res.result,
          // Another sender settled it meanwhile (this attempt outlived its lease): the attempt is recorded, its outcome not applied.
          outcome: settled ? outcome : 'superseded',
        },
      });
    });
    return res.ok;
  }
}

import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actors, type Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { newId } from '../ids.js';
import { isUniqueViolation } from '../store/errors.js';
import { text } from '../text/index.js';
import type { RequestState } from '../rights/request.js';
import { requestRepository } from '../rights/request.repository.js';
import type { IntakeService } from '../rights/intake.service.js';
import type { Fulfilment } from '../rights/fulfilment.js';
import type { ExportFiles } from '../rights/export-files.js';
import { moveRequest } from '../rights/transitions.js';
import type { AgentRegistry } from './agent-registry.service.js';
import { callbackAllowed } from './callback-http.js';
import { drpRepository as repo } from './drp.repository.js';
import {
  OFFERED_ACTIONS,
  RIGHT_OF,
  normalizeAction,
  statusOf,
  type DirectoryEntry,
  type DrpAction,
  type DrpReason,
  type DrpStatus,
  type StatusLinks,
} from './protocol.js';
import { checkClaims, openSigned } from './signed.js';

export interface DrpSettings {
  readonly publicUrl?: string | undefined;
  readonly name: string;
  readonly privacyPolicyUrl?: string | undefined;
}

const REVOCABLE: readonly RequestState[] = ['received', 'identity_pending', 'verified'];

/**
 * The Data Rights Protocol's requests, answered by Veil's rights module: an access or deletion an
 * agent files goes through the same intake as the person's own (same legal clock, same queue, same
 * proof by emailed code, selfie matches to the DPO), names the agent, and is carried out once the
 * person has proven the address. An agent's claims (`email_verified` included) are never proof.
 */
export class DrpService {
  private listening: string | null = null;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      agents: AgentRegistry;
      intake: IntakeService;
      fulfilment: Fulfilment;
      files: ExportFiles;
      settings: DrpSettings;
    },
  ) {}

  /** The server's own address, for links when no public URL is configured. */
  listeningAt(url: string): void {
    this.listening = url;
  }

  private base(): string {
    const b = this.deps.settings.publicUrl ?? this.listening;
    if (!b) throw new VeilError('INTERNAL', 'Set VEIL_PUBLIC_URL: the protocol needs the address agents reach us at.');
    return b.replace(/\/+$/, '');
  }

  private links(): StatusLinks {
    const base = this.base();
    return {
      verify: (id) => `${base}/#/verify/${encodeURIComponent(id)}`,
      results: (id) => `${base}/v1/data-rights-request/${encodeURIComponent(id)}/results`,
    };
  }

  /** This deployment's entry for the protocol's service directory. */
  directory(): DirectoryEntry {
    const base = this.base();
    return {
      id: this.deps.agents.businessId(),
      name: this.deps.settings.name,
      logo: null,
      api_base: base,
      supported_actions: OFFERED_ACTIONS,
      supported_verifications: ['email'],
      web_url: `${base}/`,
      privacy_policy_url: this.deps.settings.privacyPolicyUrl ?? `${base}/#/`,
    };
  }

  /** §2.01: a signed request; access and deletion become rights requests, the sale actions are answered at once. */
  async exercise(actor: Actor, body: unknown): Promise<DrpStatus> {
    const businessId = this.deps.agents.businessId();
    const agent = await this.deps.agents.of(actor);
    const msg = openSigned(body, agent.verifyKey);
    const now = this.deps.clock.now();
    checkClaims(msg.claims, { agentId: agent.id, businessId, now });
    const c = msg.claims;
    const replay = () =>
      new VeilError('CONFLICT', 'This signed request was already received; a replay creates nothing.', {
        fatal: true,
      });
    if (await repo.byMessage(this.deps.store.db, agent.id, msg.hash)) throw replay();
    const action = normalizeAction(c['exercise']);
    if (!action)
      throw new VeilError('INVALID_INPUT', `Unsupported rights action; Veil answers ${OFFERED_ACTIONS.join(', ')}.`, {
        fatal: true,
      });
    const callback = c['status_callback'];
    if (callback !== undefined && callback !== null && callback !== '') {
      if (typeof callback !== 'string' || !callbackAllowed(callback, agent.callbackOrigin))
        throw new VeilError('INVALID_INPUT', 'status_callback must be on the origin registered for this agent.', {
          fatal: true,
        });
    }
    const str = (k: string, max: number) => (typeof c[k] === 'string' ? (c[k] as string).slice(0, max) : null);
    const record = {
      agentId: agent.id,
      action,
      // Recorded, never by itself a reason to deny: Veil answers under the GDPR whatever the regime.
      regime: str('regime', 50),
      agentRequestId: str('agent-request-id', 200),
      callbackUrl: typeof callback === 'string' && callback ? callback : null,
      messageHash: msg.hash,
    };
    const kind = RIGHT_OF[action];
    try {
      if (!kind) {
        const id = newId.other('req');
        const at = now.toISOString();
        await this.deps.store.transaction(async (tx) => {
          await repo.insertRequest(tx, { ...record, id, receivedAt: at, deniedReason: 'claim_not_covered' });
          await this.deps.audit.append(tx, {
            actor,
            action: 'agent.request.answered',
            detail: { requestId: id, agentId: agent.id, action, status: 'denied', reason: 'claim_not_covered' },
          });
        });
        return this.status(actor, id);
      }
      const email = c['email'];
      if (typeof email !== 'string' || !email.trim())
        throw new VeilError('INVALID_INPUT', 'Veil proves who the person is by email: send the email claim.', {
          fatal: true,
        });
      const filed = await this.deps.intake.submit(
        {
          kind,
          email: email.trim(),
          details: `Filed by authorized agent ${agent.id} (${agent.name}) under the Data Rights Protocol: ${action}.`,
        },
        {
          agent: actor,
          record: (tx, id, receivedAt) => repo.insertRequest(tx, { ...record, id, receivedAt, deniedReason: null }),
        },
      );
      return this.status(actor, filed.requestId);
    } catch (e) {
      if (isUniqueViolation(e)) throw replay();
      throw e;
    }
  }

  /** The protocol's record of a request this agent filed; another agent's is refused (403). */
  private async mine(actor: Actor, id: string) {
    this.deps.agents.businessId();
    const agent = await this.deps.agents.of(actor);
    const d = await repo.request(this.deps.store.db, id);
    if (!d) throw new VeilError('NOT_FOUND', `No request '${id}'.`);
    if (d.agent_id !== agent.id) throw new VeilError('FORBIDDEN', 'This request belongs to another agent.');
    return { agent, d };
  }

  /** §2.02: the request's status. */
  async status(actor: Actor, id: string): Promise<DrpStatus> {
    await this.mine(actor, id);
    return this.statusFor(id);
  }

  /** A request's status now, or as of one of its changes (what a callback reports). */
  async statusFor(id: string, event?: string): Promise<DrpStatus> {
    const d = (await repo.request(this.deps.store.db, id))!;
    const request = d.denied_reason ? null : ((await requestRepository.get(this.deps.store.db, id)) ?? null);
    const now = this.deps.clock.now();
    const as = event === 'extended' ? { extended: true, now } : event ? { state: event as RequestState, now } : { now };
    return statusOf(
      {
        id,
        action: d.action as DrpAction,
        receivedAt: d.received_at,
        agentRequestId: d.agent_request_id,
        deniedReason: d.denied_reason as DrpReason | null,
        request,
      },
      this.links(),
      text(request?.language ?? 'en').drp,
      as,
    );
  }

  /**
   * §2.04: the agent cancels a request the person has not yet had carried out. The signed body
   * holds a `reason`; when it also names the agent, the business and a time window, they must hold.
   */
  async revoke(actor: Actor, id: string, body: unknown): Promise<DrpStatus> {
    const { agent, d } = await this.mine(actor, id);
    const msg = openSigned(body, agent.verifyKey);
    const c = msg.claims;
    if (['agent-id', 'business-id', 'issued-at', 'expires-at'].some((k) => k in c))
      checkClaims(c, { agentId: agent.id, businessId: this.deps.agents.businessId(), now: this.deps.clock.now() });
    const r = d.denied_reason ? null : await requestRepository.get(this.deps.store.db, id);
    if (!r || !REVOCABLE.includes(r.state))
      throw new VeilError(
        'INVALID_STATE',
        'This request is already being carried out or closed: it cannot be revoked.',
        {
          fatal: true,
        },
      );
    const reason =
      typeof c['reason'] === 'string'
        ? c['reason']
            .replace(/[\p{Cc}]/gu, ' ')
            .slice(0, 500)
            .trim()
        : '';
    await this.deps.store.transaction((tx) =>
      moveRequest(this.deps, tx, r, 'withdrawn', actor, `revoked by agent ${agent.id}${reason ? `: ${reason}` : ''}`, {
        agentId: agent.id,
      }),
    );
    return this.statusFor(id);
  }

  /**
   * For the portal page behind `user_verification_url`: the agent's name, and where to send the
   * person once the address is proven. The agent's `redirect_to` is honoured only on the origins
   * an admin registered for it (its web site, its callbacks): never an open redirect.
   */
  async verifyPage(id: string, redirectTo?: string): Promise<{ agent: string; returnTo: string | null }> {
    this.deps.agents.businessId();
    const d = await repo.request(this.deps.store.db, id);
    const agent = d ? await this.deps.agents.get(d.agent_id) : null;
    if (!d || !agent || agent.revokedAt) throw new VeilError('NOT_FOUND', `No request '${id}'.`);
    const origins = [agent.callbackOrigin, agent.webUrl ? new URL(agent.webUrl).origin : null];
    const ok = redirectTo && origins.some((o) => o && callbackAllowed(redirectTo, o));
    return { agent: agent.name, returnTo: ok ? new URL(redirectTo).href : null };
  }

  /** The result file of an access request this agent filed, once fulfilled. */
  async results(actor: Actor, id: string): Promise<{ bytes: Buffer; kind: string }> {
    return this.deps.files.read(await this.fulfilledAccess(actor, id));
  }

  /** The same, decrypted as it is sent (the HTTP download: a large ZIP is never held whole). */
  async resultsStream(actor: Actor, id: string): Promise<{ chunks: AsyncIterable<Buffer>; kind: string }> {
    return this.deps.files.stream(await this.fulfilledAccess(actor, id));
  }

  private async fulfilledAccess(actor: Actor, id: string): Promise<Record<string, unknown> | null> {
    await this.mine(actor, id);
    const r = await requestRepository.get(this.deps.store.db, id);
    if (!r || r.kind !== 'access' || r.state !== 'fulfilled')
      throw new VeilError('NOT_FOUND', 'This request has no result to download (yet).');
    return r.outcome;
  }

  /**
   * Requests agents filed whose person has proven the address are carried out, as the person's own
   * portal would at their click: what the address links at once, what a selfie found after the DPO's
   * review. Run by the outbox's lease holder, so one process does it.
   */
  async advance(log: (line: string) => void = () => undefined): Promise<number> {
    let n = 0;
    for (const { id, agentId } of await repo.verifiedAgentRequests(this.deps.store.db)) {
      const r = await requestRepository.get(this.deps.store.db, id);
      if (r?.state !== 'verified') continue;
      try {
        await this.deps.fulfilment.run(r, actors.agent(agentId), {}, 'requester');
        n++;
      } catch (e) {
        log(`veil: carrying out ${id} for agent ${agentId} failed: ${(e as Error).message}`);
      }
    }
    return n;
  }
}

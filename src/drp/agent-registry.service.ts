import { createHash, randomBytes } from 'node:crypto';
import { actors, type Actor } from '../auth/actor.js';
import { AUTH_FAILURES_PER_MINUTE } from '../auth/api-keys.js';
import type { RateLimiter } from '../ops/rate-limit.service.js';
import { VeilError } from '../errors.js';
import { isUniqueViolation } from '../store/errors.js';
import type { CoreDeps } from '../service-deps.js';
import { agentRepository as repo } from './agent.repository.js';
import { callbackOrigin } from './callback-http.js';
import { canonicalVerifyKey, checkClaims, openSigned } from './signed.js';

/** An authorized agent as an admin registered it (never its token, which only the agent holds). */
export interface Agent {
  readonly id: string;
  readonly name: string;
  readonly verifyKey: string;
  readonly callbackOrigin: string | null;
  readonly webUrl: string | null;
  /** When it last set up its pair-wise token; null: never. */
  readonly pairedAt: string | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

export interface AgentInput {
  readonly id: string;
  readonly name: string;
  readonly verifyKey: string;
  readonly callbackOrigin?: string | undefined;
  readonly webUrl?: string | undefined;
}

type Row = NonNullable<Awaited<ReturnType<typeof repo.get>>>;

const toAgent = (r: Row): Agent => ({
  id: r.id,
  name: r.name,
  verifyKey: r.verify_key,
  callbackOrigin: r.callback_origin,
  webUrl: r.web_url,
  pairedAt: r.token_issued_at,
  createdAt: r.created_at,
  revokedAt: r.revoked_at,
});

/** The origin of a URL, or '' when it is not one. */
const safeOrigin = (url: string): string => {
  try {
    return new URL(url).origin;
  } catch {
    return '';
  }
};

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Authorized agents: registered by an admin (standing in for the protocol's service directory),
 * paired by a message they sign, then known by their bearer token. Tokens are 256 random bits,
 * shown once to the agent and stored as a SHA-256 hash; a new pairing replaces the old token.
 */
export class AgentRegistry {
  constructor(
    private readonly deps: CoreDeps & {
      /** The deployment's business-id; undefined: the protocol is off. */
      businessId: string | undefined;
      loopbackCallbacks: boolean;
    },
  ) {}

  async add(actor: Actor, input: AgentInput): Promise<Agent> {
    this.deps.policy.require(actor, 'agents.manage');
    if (!/^[A-Za-z0-9_.-]{1,100}$/.test(input.id))
      throw new VeilError('INVALID_INPUT', 'An agent id is 1-100 letters, digits, _ . or -.');
    if (!input.name?.trim()) throw new VeilError('INVALID_INPUT', 'An agent needs a name.');
    const origin = input.callbackOrigin ? callbackOrigin(input.callbackOrigin, this.deps.loopbackCallbacks) : null;
    if (input.callbackOrigin && !origin)
      throw new VeilError(
        'INVALID_INPUT',
        'The callback origin is an https origin (scheme, host and port, no path), e.g. https://agent.example.',
      );
    const web = input.webUrl?.trim() || null;
    if (web && !callbackOrigin(safeOrigin(web), this.deps.loopbackCallbacks))
      throw new VeilError('INVALID_INPUT', "The agent's web URL is an https URL.");
    const row = {
      id: input.id,
      name: input.name.trim(),
      verifyKey: canonicalVerifyKey(input.verifyKey),
      callbackOrigin: origin,
      webUrl: web,
      createdAt: this.deps.clock.now().toISOString(),
    };
    try {
      await this.deps.store.transaction(async (tx) => {
        await repo.insert(tx, row);
        await this.deps.audit.append(tx, {
          actor,
          action: 'agent.registered',
          detail: { agentId: row.id, callbacks: Boolean(origin) },
        });
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new VeilError('CONFLICT', `An agent '${input.id}' is already registered.`);
      throw e;
    }
    return toAgent((await repo.get(this.deps.store.db, row.id))!);
  }

  async list(actor: Actor): Promise<Agent[]> {
    this.deps.policy.require(actor, 'agents.manage');
    return (await repo.all(this.deps.store.db)).map(toAgent);
  }

  /** The agent and its token stop working at once; its requests stay in the queue. */
  async revoke(actor: Actor, id: string): Promise<void> {
    this.deps.policy.require(actor, 'agents.manage');
    await this.deps.store.transaction(async (tx) => {
      if (!(await repo.revoke(tx, id, this.deps.clock.now().toISOString())))
        throw new VeilError('NOT_FOUND', `No active agent '${id}'.`);
      await this.deps.audit.append(tx, { actor, action: 'agent.revoked', detail: { agentId: id } });
    });
  }

  /** The business-id, or NOT_FOUND when this deployment does not speak the protocol. */
  businessId(): string {
    if (!this.deps.businessId)
      throw new VeilError('NOT_FOUND', 'This Veil does not take Data Rights Protocol requests (VEIL_DRP_BUSINESS_ID).');
    return this.deps.businessId;
  }

  /**
   * §2.05 pair-wise key set-up: a message signed with the registered key, naming this agent (as the
   * URL does) and this business, within its time window, gets a fresh bearer token.
   */
  async pair(agentId: string, body: unknown): Promise<{ 'agent-id': string; token: string }> {
    const businessId = this.businessId();
    const row = await repo.get(this.deps.store.db, agentId);
    if (!row || row.revoked_at) throw new VeilError('FORBIDDEN', 'Unknown agent.');
    const msg = openSigned(body, row.verify_key);
    checkClaims(msg.claims, { agentId, businessId, now: this.deps.clock.now() });
    const token = `drp_${randomBytes(32).toString('base64url')}`;
    await this.deps.store.transaction(async (tx) => {
      await repo.setToken(tx, agentId, tokenHash(token), this.deps.clock.now().toISOString());
      await this.deps.audit.append(tx, { actor: actors.agent(agentId), action: 'agent.paired', detail: { agentId } });
    });
    return { 'agent-id': agentId, token };
  }

  /**
   * The agent behind a bearer token: unknown, replaced and revoked tokens are all just "not valid".
   * With a guard, failures are counted per address as API keys' are (AUTH_FAILURES_PER_MINUTE, then
   * RATE_LIMITED); a token is the whole secret, so there is no id of its own to count.
   */
  async authenticate(token: string | undefined, guard?: { ip: string; limiter: RateLimiter }): Promise<Actor> {
    if (!token) throw new VeilError('UNAUTHENTICATED', 'A bearer token from POST /v1/agent/{agent-id} is required.');
    const row = await repo.byTokenHash(this.deps.store.db, tokenHash(token));
    if (!row) {
      if (guard) await guard.limiter.take('auth-fail-ip', guard.ip, AUTH_FAILURES_PER_MINUTE, 60_000);
      throw new VeilError('UNAUTHENTICATED', 'The bearer token is not valid.');
    }
    return actors.agent(row.id);
  }

  /** The registered, active agent an actor is. */
  async of(actor: Actor): Promise<Agent> {
    const row = actor.kind === 'agent' ? await repo.get(this.deps.store.db, actor.id) : undefined;
    if (!row || row.revoked_at) throw new VeilError('FORBIDDEN', 'Only a registered authorized agent may do this.');
    return toAgent(row);
  }

  /** §2.06: the token still works, for the agent the URL names. */
  async info(actor: Actor, agentId: string): Promise<Record<string, never>> {
    this.businessId();
    const agent = await this.of(actor);
    if (agent.id !== agentId) throw new VeilError('FORBIDDEN', 'This token belongs to another agent.');
    return {};
  }

  /** An agent's record, for the outbox (its callback origin) and status answers. */
  async get(id: string): Promise<Agent | null> {
    const row = await repo.get(this.deps.store.db, id);
    return row ? toAgent(row) : null;
  }
}

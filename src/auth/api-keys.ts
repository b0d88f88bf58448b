import { randomBytes, createHash } from 'node:crypto';

import { actors, type Actor } from './actor.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { ROLES, type Role } from './actor.js';
import { apiKeyRepository as repo } from './api-key.repository.js';
import type { CoreDeps } from '../service-deps.js';
import type { Tx } from '../store/store.js';
import type { RateLimiter } from '../ops/rate-limit.service.js';
import { checkKeySecret, hashKeySecret, isLegacyKeyHash } from './key-secret.js';

export { ROLES, type Role } from './actor.js';

export interface ApiKey {
  readonly id: string;
  readonly name: string;
  readonly role: Role;
  /** Purpose keys this key may use; '*' for all. */
  readonly purposes: readonly string[];
  readonly createdAt: string;
  readonly revokedAt: string | null;
}

/** Failed authentications allowed per minute from one address, and against one key id. */
export const AUTH_FAILURES_PER_MINUTE = 20;

const invalid = () => new VeilError('UNAUTHENTICATED', 'The API key is not valid.');

/**
 * API keys: `veil_<id>_<secret>`, shown once; only a SHA-256 of the secret is stored (see
 * key-secret.ts). Failed attempts are counted per address and per key id in the shared rate
 * limiter: past AUTH_FAILURES_PER_MINUTE, failures answer RATE_LIMITED with Retry-After.
 */
export class ApiKeyService {
  private readonly cache = new Map<string, ApiKey>();

  constructor(private readonly deps: CoreDeps) {}

  /** `within` runs in the key's own transaction (what makes it a compatibility key commits with it). */
  async create(
    actor: Actor,
    input: { name: string; role: Role; purposes: readonly string[] },
    within?: (tx: Tx, keyId: string) => Promise<void>,
  ): Promise<{ key: ApiKey; token: string }> {
    this.deps.policy.require(actor, 'keys.manage');
    return this.mint(actor, input, within);
  }

  /** The first admin key of a fresh installation (no key exists to authorize it). */
  async firstAdmin(): Promise<string | null> {
    if ((await this.count()) > 0) return null;
    return (await this.mint(actors.system('first-start'), { name: 'first admin', role: 'admin', purposes: ['*'] }))
      .token;
  }

  private async mint(
    actor: Actor,
    input: { name: string; role: Role; purposes: readonly string[] },
    within?: (tx: Tx, keyId: string) => Promise<void>,
  ): Promise<{ key: ApiKey; token: string }> {
    if (!ROLES.includes(input.role)) throw new VeilError('INVALID_INPUT', `role must be one of ${ROLES.join(', ')}.`);
    if (!input.purposes.length)
      throw new VeilError('INVALID_INPUT', "A key needs at least one purpose, or '*' for all.");
    const id = newId.other('key');
    const secret = randomBytes(24).toString('base64url');
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, {
        id,
        name: input.name,
        role: input.role,
        purposes: input.purposes,
        secretHash: hashKeySecret(secret),
        createdAt: now,
      });
      await this.deps.audit.append(tx, {
        actor,
        action: 'apikey.created',
        detail: { keyId: id, role: input.role, purposes: [...input.purposes] },
      });
      await within?.(tx, id);
    });
    return {
      key: { id, name: input.name, role: input.role, purposes: input.purposes, createdAt: now, revokedAt: null },
      token: `veil_${id}_${secret}`,
    };
  }

  /**
   * The actor behind a bearer token. Unknown, malformed and revoked keys are all just "not valid".
   * With a guard, a wrong secret for a well-formed key id is counted per address and per key id,
   * and past AUTH_FAILURES_PER_MINUTE answers RATE_LIMITED. The right secret still gets in (key ids
   * are public: a stranger must not lock the owner out; secrets are 192 random bits), except that
   * an old scrypt hash's slow check is skipped while its address or key id is over the limit.
   * Malformed tokens cost nothing to refuse and are not counted.
   */
  async authenticate(token: string | undefined, guard?: { ip: string; limiter: RateLimiter }): Promise<Actor> {
    if (!token) throw new VeilError('UNAUTHENTICATED', 'An API key is required (Authorization: Bearer veil_...).');
    const m = /^veil_(key_[A-Za-z0-9_-]{16})_([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) throw invalid();
    const [, keyId, secret] = m as unknown as [string, string, string];
    const fail = async (): Promise<never> => {
      if (guard) {
        await guard.limiter.take('auth-fail-ip', guard.ip, AUTH_FAILURES_PER_MINUTE, 60_000);
        await guard.limiter.take('auth-fail-key', keyId, AUTH_FAILURES_PER_MINUTE, 60_000);
      }
      throw invalid();
    };
    const digest = createHash('sha256').update(token).digest('hex');
    // The row is read on every request (one primary-key lookup) so that a revocation or a role
    // change made through any process applies at once everywhere.
    const row = await repo.get(this.deps.store.db, keyId);
    if (!row || row.revoked_at) return fail();
    if (this.cache.get(digest)?.id !== row.id) {
      const legacy = isLegacyKeyHash(row.secret_hash);
      if (legacy && guard) {
        await guard.limiter.check('auth-fail-ip', guard.ip, AUTH_FAILURES_PER_MINUTE, 60_000);
        await guard.limiter.check('auth-fail-key', keyId, AUTH_FAILURES_PER_MINUTE, 60_000);
      }
      if (!(await checkKeySecret(secret, row.secret_hash))) return fail();
      if (legacy) await repo.setSecretHash(this.deps.store.db, row.id, row.secret_hash, hashKeySecret(secret));
    }
    const key: ApiKey = {
      id: row.id,
      name: row.name,
      role: row.role as Role,
      purposes: JSON.parse(row.purposes),
      createdAt: row.created_at,
      revokedAt: null,
    };
    this.cache.set(digest, key);
    return actors.apiKey(key);
  }

  async list(actor: Actor): Promise<ApiKey[]> {
    this.deps.policy.require(actor, 'keys.manage');
    return (await repo.all(this.deps.store.db)).map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role as Role,
      purposes: JSON.parse(r.purposes),
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  async count(): Promise<number> {
    return (await repo.all(this.deps.store.db)).filter((k) => !k.revoked_at).length;
  }

  async revoke(actor: Actor, id: string): Promise<void> {
    this.deps.policy.require(actor, 'keys.manage');
    await this.deps.store.transaction(async (tx) => {
      if (!(await repo.revoke(tx, id, this.deps.clock.now().toISOString())))
        throw new VeilError('NOT_FOUND', `No active key '${id}'.`);
      await this.deps.audit.append(tx, { actor, action: 'apikey.revoked', detail: { keyId: id } });
    });
    this.cache.clear();
  }
}

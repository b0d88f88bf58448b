import { randomBytes, scryptSync, timingSafeEqual, createHash } from 'node:crypto';

import { actors, type Actor } from './actor.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { ROLES, type Role } from './actor.js';
import { apiKeyRepository as repo } from './api-key.repository.js';
import type { CoreDeps } from '../service-deps.js';
import type { Tx } from '../store/store.js';

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

const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

function hashSecret(secret: string, salt: Buffer): string {
  return `scrypt$${salt.toString('base64url')}$${scryptSync(secret, salt, 32, SCRYPT).toString('base64url')}`;
}

function checkSecret(secret: string, stored: string): boolean {
  const [alg, salt, hash] = stored.split('$');
  if (alg !== 'scrypt' || !salt || !hash) return false;
  const want = Buffer.from(hash, 'base64url');
  const got = scryptSync(secret, Buffer.from(salt, 'base64url'), want.length, SCRYPT);
  return timingSafeEqual(want, got);
}

/**
 * API keys: `veil_<id>_<secret>`, shown once; only an scrypt hash is stored. A verified token is
 * remembered by its SHA-256 so scrypt is paid once per key and process, not per request.
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
        secretHash: hashSecret(secret, randomBytes(16)),
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

  /** The actor behind a bearer token. Unknown, malformed and revoked keys are all just "not valid". */
  async authenticate(token: string | undefined): Promise<Actor> {
    if (!token) throw new VeilError('UNAUTHENTICATED', 'An API key is required (Authorization: Bearer veil_...).');
    const digest = createHash('sha256').update(token).digest('hex');
    const m = /^veil_(key_[A-Za-z0-9_-]{16})_([A-Za-z0-9_-]+)$/.exec(token);
    // The row is read on every request (one primary-key lookup) so that a revocation or a role
    // change made through any process applies at once everywhere; only scrypt is cached.
    const row = m ? await repo.get(this.deps.store.db, m[1]!) : undefined;
    if (!row || row.revoked_at) throw new VeilError('UNAUTHENTICATED', 'The API key is not valid.');
    if (this.cache.get(digest)?.id !== row.id) {
      if (!checkSecret(m![2]!, row.secret_hash)) throw new VeilError('UNAUTHENTICATED', 'The API key is not valid.');
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

import { randomBytes, scryptSync, timingSafeEqual, createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';

export const ROLES = ['admin', 'operator', 'investigator', 'dpo', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

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

  constructor(private readonly deps: { store: Store; audit: AuditLog; clock: Clock }) {}

  async create(
    input: { name: string; role: Role; purposes: readonly string[] },
    actor: Actor,
  ): Promise<{ key: ApiKey; token: string }> {
    if (!ROLES.includes(input.role)) throw new VeilError('INVALID_INPUT', `role must be one of ${ROLES.join(', ')}.`);
    if (!input.purposes.length)
      throw new VeilError('INVALID_INPUT', "A key needs at least one purpose, or '*' for all.");
    const id = newId.other('key');
    const secret = randomBytes(24).toString('base64url');
    const now = this.deps.clock.now().toISOString();
    await this.deps.store.transaction(async (tx) => {
      await tx
        .insertInto('api_keys')
        .values({
          id,
          name: input.name,
          role: input.role,
          purposes: JSON.stringify(input.purposes),
          secret_hash: hashSecret(secret, randomBytes(16)),
          created_at: now,
          revoked_at: null,
        })
        .execute();
      await this.deps.audit.append(tx, {
        actor,
        action: 'apikey.created',
        detail: { keyId: id, role: input.role, purposes: [...input.purposes] },
      });
    });
    return {
      key: { id, name: input.name, role: input.role, purposes: input.purposes, createdAt: now, revokedAt: null },
      token: `veil_${id}_${secret}`,
    };
  }

  async authenticate(token: string | undefined): Promise<ApiKey> {
    if (!token) throw new VeilError('UNAUTHENTICATED', 'An API key is required (Authorization: Bearer veil_...).');
    const digest = createHash('sha256').update(token).digest('hex');
    const m = /^veil_(key_[A-Za-z0-9_-]{16})_([A-Za-z0-9_-]+)$/.exec(token);
    // The row is read on every request (one primary-key lookup) so that a revocation or a role
    // change made through any process applies at once everywhere; only scrypt is cached.
    const row = m
      ? await this.deps.store.db.selectFrom('api_keys').selectAll().where('id', '=', m[1]!).executeTakeFirst()
      : undefined;
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
    return key;
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.deps.store.db.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role as Role,
      purposes: JSON.parse(r.purposes),
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  async count(): Promise<number> {
    return (await this.list()).filter((k) => !k.revokedAt).length;
  }

  async revoke(id: string, actor: Actor): Promise<void> {
    const r = await this.deps.store.transaction(async (tx) => {
      const res = await tx
        .updateTable('api_keys')
        .set({ revoked_at: this.deps.clock.now().toISOString() })
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) throw new VeilError('NOT_FOUND', `No active key '${id}'.`);
      await this.deps.audit.append(tx, { actor, action: 'apikey.revoked', detail: { keyId: id } });
    });
    this.cache.clear();
    return r;
  }
}

/** Whether a key bound to some purposes may use this one. */
export function mayUsePurpose(key: ApiKey, purposeKey: string, purposeId: string): boolean {
  return key.purposes.includes('*') || key.purposes.includes(purposeKey) || key.purposes.includes(purposeId);
}

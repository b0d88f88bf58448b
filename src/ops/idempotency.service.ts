import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import { open, seal } from '../privacy/keys.js';
import { PENDING, idempotencyRepository as repo } from './idempotency.repository.js';

const KEEP_MS = 24 * 3_600_000;
const derive = (label: string, parts: readonly string[]) => {
  const h = createHash('sha256').update(label);
  for (const p of parts) h.update('\0').update(p);
  return h.digest();
};

/** A claim older than this belongs to a process that died before answering: it may be taken over. */
const ABANDONED_MS = 10 * 60_000;

export type Claim = { kind: 'claimed' } | { kind: 'replay'; status: number; body: unknown };

/**
 * Replays of POSTs that create things (`Idempotency-Key`). The key is claimed before the request is
 * carried out (a unique row in a pending state), so concurrent retries cannot all execute: the first
 * runs, the others get 409 CONFLICT with Retry-After until its answer is stored, then that answer.
 * A stored answer is sealed under a key derived from the client's own Idempotency-Key, which the
 * server never stores: the table holds no readable subject id. Answers that carry a secret shown once
 * (an API key's token) are never stored; their replay is refused.
 */
export class IdempotencyStore {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async claim(scope: readonly string[], fingerprint: string): Promise<Claim> {
    const key = derive('veil.idempotency.row', scope).toString('hex');
    const now = this.deps.clock.now();
    const db = this.deps.store.db;
    await repo.release(db, key, new Date(now.getTime() - ABANDONED_MS).toISOString());
    if (await repo.claim(db, { key, fingerprint, createdAt: now.toISOString() })) return { kind: 'claimed' };
    const row = await repo.get(db, key);
    // Answered and pruned, or released, between the two statements: claim again.
    if (!row) return this.claim(scope, fingerprint);
    if (row.fingerprint !== fingerprint)
      throw new VeilError('CONFLICT', 'This Idempotency-Key was used with a different request.');
    if (row.status === PENDING)
      throw new VeilError(
        'CONFLICT',
        'A request with this Idempotency-Key is still being carried out; retry shortly.',
        {
          retryAfterSeconds: 1,
        },
      );
    if (!row.body)
      throw new VeilError(
        'CONFLICT',
        'This request was already carried out; its answer held a secret shown only once.',
      );
    const body = open(derive('veil.idempotency.body', scope), Buffer.from(row.body, 'base64'), 'veil.idempotency');
    return { kind: 'replay', status: row.status, body: JSON.parse(body.toString('utf8')) };
  }

  /** Stores the answer of a claimed request, for its replays. */
  async answer(scope: readonly string[], status: number, body: unknown, secret: boolean): Promise<void> {
    const sealed = secret
      ? ''
      : seal(derive('veil.idempotency.body', scope), Buffer.from(JSON.stringify(body)), 'veil.idempotency').toString(
          'base64',
        );
    await repo.complete(this.deps.store.db, derive('veil.idempotency.row', scope).toString('hex'), status, sealed);
  }

  /** The claimed request failed: nothing was done, so a retry with the same key may run it. */
  async abandon(scope: readonly string[]): Promise<void> {
    await repo.release(this.deps.store.db, derive('veil.idempotency.row', scope).toString('hex'));
  }

  /** A replay is only promised for a day; after that the stored answers are just data kept. */
  async prune(): Promise<void> {
    await repo.deleteBefore(this.deps.store.db, new Date(this.deps.clock.now().getTime() - KEEP_MS).toISOString());
  }
}

import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import { open, seal } from '../privacy/keys.js';
import { idempotencyRepository as repo } from './idempotency.repository.js';

const KEEP_MS = 24 * 3_600_000;
const derive = (label: string, parts: readonly string[]) => {
  const h = createHash('sha256').update(label);
  for (const p of parts) h.update('\0').update(p);
  return h.digest();
};

/**
 * Replays of POSTs that create things (`Idempotency-Key`). A stored answer is sealed under a key
 * derived from the client's own Idempotency-Key, which the server never stores: the table holds no
 * readable subject id. Answers that carry a secret shown once (an API key's token) are never stored;
 * their replay is refused.
 */
export class IdempotencyStore {
  constructor(private readonly deps: { store: Store; clock: Clock }) {}

  async replay(scope: readonly string[], fingerprint: string): Promise<{ status: number; body: unknown } | null> {
    const row = await repo.get(this.deps.store.db, derive('veil.idempotency.row', scope).toString('hex'));
    if (!row) return null;
    if (row.fingerprint !== fingerprint)
      throw new VeilError('CONFLICT', 'This Idempotency-Key was used with a different request.');
    if (!row.body)
      throw new VeilError(
        'CONFLICT',
        'This request was already carried out; its answer held a secret shown only once.',
      );
    const body = open(derive('veil.idempotency.body', scope), Buffer.from(row.body, 'base64'), 'veil.idempotency');
    return { status: row.status, body: JSON.parse(body.toString('utf8')) };
  }

  async remember(
    scope: readonly string[],
    fingerprint: string,
    status: number,
    body: unknown,
    secret: boolean,
  ): Promise<void> {
    const sealed = secret
      ? ''
      : seal(derive('veil.idempotency.body', scope), Buffer.from(JSON.stringify(body)), 'veil.idempotency').toString(
          'base64',
        );
    await repo.put(this.deps.store.db, {
      key: derive('veil.idempotency.row', scope).toString('hex'),
      fingerprint,
      status,
      body: sealed,
      createdAt: this.deps.clock.now().toISOString(),
    });
  }

  /** A replay is only promised for a day; after that the stored answers are just data kept. */
  async prune(): Promise<void> {
    await repo.deleteBefore(this.deps.store.db, new Date(this.deps.clock.now().getTime() - KEEP_MS).toISOString());
  }
}

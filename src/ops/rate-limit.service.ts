import { createHmac } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import { rateLimitRepository as repo } from './rate-limit.repository.js';

/**
 * Fixed-window rate limits kept in the store: every process behind a load balancer counts into the
 * same buckets, and a restart does not reset them. Bucket names are keyed hashes, so an address or
 * an IP never sits in the table in clear.
 */
export class RateLimiter {
  constructor(private readonly deps: { store: Store; clock: Clock; key: Buffer }) {}

  /** Counts a hit and refuses with RATE_LIMITED (and when to retry) past `max` per window. */
  async take(scope: string, who: string, max: number, windowMs: number): Promise<void> {
    const now = this.deps.clock.now().getTime();
    const start = Math.floor(now / windowMs) * windowMs;
    const bucket = `${scope}:${createHmac('sha256', this.deps.key).update(who).digest('hex').slice(0, 32)}`;
    const hits = await repo.hit(this.deps.store.db, bucket, new Date(start).toISOString());
    if (hits > max) {
      const retry = Math.max(1, Math.ceil((start + windowMs - now) / 1000));
      throw new VeilError('RATE_LIMITED', 'Too many requests; try again later.', { retryAfterSeconds: retry });
    }
  }

  /** Forgets windows that ended more than a day ago (the hourly job). */
  async prune(): Promise<void> {
    await repo.pruneBefore(this.deps.store.db, new Date(this.deps.clock.now().getTime() - 86_400_000).toISOString());
  }
}

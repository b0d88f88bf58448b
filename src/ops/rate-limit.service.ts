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
    const w = this.window(scope, who, windowMs);
    const hits = await repo.hit(this.deps.store.db, w.bucket, w.start);
    if (hits > max) throw this.limited(w.retry);
  }

  /** Refuses like `take` when the bucket is already past `max`, without counting a hit. */
  async check(scope: string, who: string, max: number, windowMs: number): Promise<void> {
    const w = this.window(scope, who, windowMs);
    if ((await repo.count(this.deps.store.db, w.bucket, w.start)) > max) throw this.limited(w.retry);
  }

  private window(scope: string, who: string, windowMs: number) {
    const now = this.deps.clock.now().getTime();
    const start = Math.floor(now / windowMs) * windowMs;
    return {
      bucket: `${scope}:${createHmac('sha256', this.deps.key).update(who).digest('hex').slice(0, 32)}`,
      start: new Date(start).toISOString(),
      retry: Math.max(1, Math.ceil((start + windowMs - now) / 1000)),
    };
  }

  private limited(retryAfterSeconds: number): VeilError {
    return new VeilError('RATE_LIMITED', 'Too many requests; try again later.', { retryAfterSeconds });
  }

  /** Forgets windows that ended more than a day ago (the hourly job). */
  async prune(): Promise<void> {
    await repo.pruneBefore(this.deps.store.db, new Date(this.deps.clock.now().getTime() - 86_400_000).toISOString());
  }
}

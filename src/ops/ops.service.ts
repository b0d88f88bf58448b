import { OUTBOX_KEEP_MS, type Mailer } from '../rights/mailer.js';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actors, type Actor } from '../auth/actor.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { PurposeId } from '../ids.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { consentRepository } from '../privacy/consent.repository.js';
import { portalEnrollmentRepository } from '../gallery/portal-enrollment.repository.js';
import type { RetentionService } from '../oversight/retention.service.js';
import type { OrderService } from '../oversight/orders.service.js';
import type { BreachService } from '../oversight/breaches.service.js';
import type { IntakeService } from '../rights/intake.service.js';
import type { RightsQueue } from '../rights/queue.service.js';
import type { IdempotencyStore } from './idempotency.service.js';
import type { RateLimiter } from './rate-limit.service.js';
import { opsRepository } from './ops.repository.js';
import { modelSwitchRepository } from '../gallery/model-switch.repository.js';

// Outlives the hour, so the holder of the hourly jobs keeps it and the other processes stay out.
const HOURLY_LEASE_MS = 65 * 60_000;

export interface MetricFamily {
  readonly name: string;
  readonly help: string;
  readonly values: readonly { labels: string; value: number }[];
}

/** Health, metrics and the hourly jobs of a running Veil. */
export class OpsService {
  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      audit: AuditLog;
      policy: AccessPolicy;
      templatesIn: (purposeId: PurposeId) => number;
      rights: RightsQueue;
      intake: IntakeService;
      retention: RetentionService;
      orders: OrderService;
      breaches: BreachService;
      idempotency: IdempotencyStore;
      limiter: RateLimiter;
      mailer: Mailer;
      /** Metrics name purposes and gallery sizes: only for keys, unless the operator made them public. */
      metricsPublic: boolean;
    },
  ) {}

  /** Whether the database answers (the engine's readiness is the server's to add). */
  async databaseReady(): Promise<boolean> {
    try {
      await opsRepository.ping(this.deps.store.db);
      return true;
    } catch {
      return false;
    }
  }

  async metrics(actor: Actor): Promise<MetricFamily[]> {
    if (!this.deps.metricsPublic) this.deps.policy.require(actor, 'stats.read');
    // Public metrics are the operator's choice for every purpose; a key sees the purposes it is bound to.
    const all = await purposeRepository.list(this.deps.store.db);
    const purposes =
      this.deps.metricsPublic && actor.role === 'public' ? all : all.filter((p) => this.deps.policy.bound(actor, p));
    const counts = await this.deps.rights.counts();
    // Counts over every purpose: for public metrics and keys bound to all purposes only.
    const byModel =
      (this.deps.metricsPublic && actor.role === 'public') || actor.purposes === '*'
        ? await modelSwitchRepository.countsByModel(this.deps.store.db)
        : [];
    return [
      {
        name: 'veil_gallery_templates',
        help: 'Matchable templates per purpose',
        values: purposes.map((p) => ({ labels: `purpose="${p.key}"`, value: this.deps.templatesIn(p.id) })),
      },
      {
        name: 'veil_templates_by_model',
        help: 'Stored templates per embedder id; only the active one is matched (veil faces reembed)',
        values: byModel.map((m) => ({ labels: `model="${m.model}"`, value: m.templates })),
      },
      { name: 'veil_rights_requests_open', help: 'Open rights requests', values: [{ labels: '', value: counts.open }] },
      {
        name: 'veil_rights_requests_overdue',
        help: 'Rights requests past their deadline',
        values: [{ labels: '', value: counts.overdue }],
      },
      {
        name: 'veil_rights_requests_awaiting_review',
        help: 'Rights requests waiting for the DPO to review face matches',
        values: [{ labels: '', value: counts.awaitingReview }],
      },
      {
        name: 'veil_breach_notifications_overdue',
        help: 'Breaches not notified within 72 hours of discovery',
        values: [{ labels: '', value: await this.deps.breaches.overdueCount() }],
      },
      {
        name: 'veil_orders_overdue',
        help: 'Regulator orders past their deadline and still open',
        values: [{ labels: '', value: await this.deps.orders.overdueCount() }],
      },
    ];
  }

  /**
   * The hourly jobs: retention, stale and interrupted rights requests, expired replays, rate-limit
   * windows and unused portal codes. With several processes on one database, the one holding the
   * lease runs them (the lease outlives the hour, so the holder keeps it and the others stay out).
   */
  async hourly(holder: string, log: (line: string) => void): Promise<boolean> {
    const now = this.deps.clock.now();
    if (!(await opsRepository.tryLease(this.deps.store.db, 'hourly', holder, now, HOURLY_LEASE_MS))) return false;
    const step = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await fn();
      } catch (e) {
        log(`veil: ${name} failed: ${(e as Error).message}`);
      }
    };
    await step('retention run', () => this.deps.retention.run(actors.system('retention'), { dryRun: false }));
    await step('expiring stale requests', () => this.deps.intake.expireStale());
    await step('resuming interrupted requests', () => this.deps.rights.resumeInterrupted());
    await step('expiring export files', () => this.deps.rights.expireExports());
    await step('pruning the mail outbox', async () =>
      this.deps.mailer.prune?.(new Date(now.getTime() - OUTBOX_KEEP_MS)),
    );
    await step('pruning replays', () => this.deps.idempotency.prune());
    await step('pruning rate limits', () => this.deps.limiter.prune());
    await step('pruning portal codes', () =>
      portalEnrollmentRepository.deletePendingBefore(
        this.deps.store.db,
        new Date(now.getTime() - 86_400_000).toISOString(),
      ),
    );
    return true;
  }

  /**
   * A consent past its own expiry is no lawful basis: the server checks every minute and, when one
   * is due, runs retention (which expires it and erases what rested on it) instead of leaving the
   * person matchable until the next hourly run. Under the hourly lease, so one process runs retention.
   */
  async expireConsents(holder: string): Promise<boolean> {
    const now = this.deps.clock.now();
    if (!(await consentRepository.anyExpiredButGiven(this.deps.store.db, now.toISOString()))) return false;
    if (!(await opsRepository.tryLease(this.deps.store.db, 'hourly', holder, now, HOURLY_LEASE_MS))) return false;
    await this.deps.retention.run(actors.system('retention'), { dryRun: false });
    return true;
  }

  /** Signs a tree head when enough time or entries passed (the server's timer). */
  async checkpoint(): Promise<void> {
    await this.deps.store.transaction((tx) => this.deps.audit.maybeCheckpoint(tx));
  }

  /** Signs a head over everything so far (at shutdown: the log ends on a signed head). */
  async signHead(): Promise<void> {
    await this.deps.store.transaction((tx) => this.deps.audit.signHead(tx));
  }

  /** Takes a lease for one named job (tests and the cluster use it directly). */
  lease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return opsRepository.tryLease(this.deps.store.db, name, holder, this.deps.clock.now(), ttlMs);
  }
}

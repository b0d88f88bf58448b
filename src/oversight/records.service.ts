import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { PurposeId } from '../ids.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { searchRepository } from '../gallery/search.repository.js';
import { buildRopa, type Ropa } from './ropa.js';
import { dpiaDraft } from './dpia.js';
import { figuresRepository } from './oversight.repository.js';
import type { OversightSettings } from './settings.js';
import type { BreachService } from './breaches.service.js';
import type { OrderService } from './orders.service.js';

/** What a DPO and an auditor read: records of processing, impact assessment drafts, the dashboard. */
export class RecordsService {
  constructor(
    private readonly deps: {
      store: Store;
      clock: Clock;
      policy: AccessPolicy;
      settings: OversightSettings;
      templatesIn: (purposeId: PurposeId) => number;
      rightsCounts: () => Promise<{ open: number; overdue: number }>;
      rightsClosed: () => Promise<{ id: string; kind: string; receivedAt: string; closedAt: string; dueAt: string }[]>;
      orders: OrderService;
      breaches: BreachService;
    },
  ) {}

  /** The Art. 30 record of processing. */
  async ropa(actor: Actor): Promise<Ropa> {
    this.deps.policy.require(actor, 'oversight.read');
    return buildRopa({ store: this.deps.store }, this.deps.settings, this.deps.clock.now());
  }

  /** An Art. 35 impact assessment draft for one purpose, as Markdown. */
  async dpia(actor: Actor, purposeRef: string): Promise<string> {
    const p = await this.deps.policy.purpose(actor, 'oversight.manage', purposeRef);
    const f = await figuresRepository.forPurpose(this.deps.store.db, p.id);
    return dpiaDraft(
      p,
      this.deps.settings,
      { subjects: f.subjects, templates: f.templates, searches: f.searches },
      this.deps.clock.now(),
    );
  }

  /** Dashboard figures: gallery sizes, searches per day, the rights queue and its handling times, overdue clocks. */
  async stats(actor: Actor) {
    this.deps.policy.require(actor, 'stats.read');
    const db = this.deps.store.db;
    const purposes = (await purposeRepository.list(db)).filter((p) => this.deps.policy.bound(actor, p));
    const since = new Date(this.deps.clock.now().getTime() - 14 * 86_400_000).toISOString();
    const perDay = new Map<string, number>();
    for (const s of await searchRepository.since(db, since)) {
      const p = purposes.find((x) => x.id === s.purpose_id);
      if (!p) continue;
      const k = `${s.at.slice(0, 10)}|${p.key}`;
      perDay.set(k, (perDay.get(k) ?? 0) + 1);
    }
    const oversight = actor.role === 'admin' || actor.role === 'dpo' || actor.role === 'auditor';
    return {
      purposes: purposes.map((p) => ({
        key: p.key,
        name: p.name,
        status: p.status,
        templates: this.deps.templatesIn(p.id),
      })),
      searchesPerDay: [...perDay]
        .map(([k, n]) => ({ day: k.split('|')[0]!, purpose: k.split('|')[1]!, searches: n }))
        .sort((a, b) => a.day.localeCompare(b.day)),
      rights: oversight ? await this.deps.rightsCounts() : null,
      handlingDays: oversight
        ? (await this.deps.rightsClosed()).map((r) => ({
            id: r.id,
            kind: r.kind,
            days:
              Math.round(((new Date(r.closedAt).getTime() - new Date(r.receivedAt).getTime()) / 86_400_000) * 10) / 10,
            onTime: r.closedAt <= r.dueAt,
          }))
        : [],
      breachesOverdue: oversight ? await this.deps.breaches.overdueCount() : null,
      ordersOverdue: oversight ? await this.deps.orders.overdueCount() : null,
    };
  }
}

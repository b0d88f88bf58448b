import { z } from 'zod';

import type { Actor } from '../auth/actor.js';
import { parseInput } from '../validation.js';
import { breachRepository as repo } from './oversight.repository.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { CoreDeps } from '../service-deps.js';

export const BreachInputSchema = z.object({
  discoveredAt: z.string().datetime(),
  nature: z.string().min(5).max(5000),
  categories: z.array(z.string().min(2)).min(1),
  approxPeople: z.number().int().min(0),
  approxRecords: z.number().int().min(0),
  consequences: z.string().min(5).max(5000),
  measures: z.string().min(5).max(5000),
});

/** Art. 33(1): notify the supervisory authority within 72 hours of becoming aware. */
export const NOTIFY_WITHIN_MS = 72 * 3_600_000;

export interface Breach extends z.output<typeof BreachInputSchema> {
  readonly id: string;
  readonly notifyBy: string;
  readonly notifiedAt: string | null;
  readonly notificationRef: string | null;
  readonly peopleInformed: boolean | null;
  readonly peopleDecision: string | null;
  readonly overdue: boolean;
}

/** The breach register (Art. 33(5)) with the 72-hour clock and the Art. 34 decision. */
export class BreachService {
  constructor(private readonly deps: CoreDeps) {}

  async record(actor: Actor, raw: unknown): Promise<Breach> {
    this.deps.policy.require(actor, 'oversight.manage');
    const b = parseInput(BreachInputSchema, raw);
    const id = newId.other('brc');
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, { id, ...b, createdAt: this.deps.clock.now().toISOString() });
      await this.deps.audit.append(tx, {
        actor,
        action: 'breach.recorded',
        detail: {
          breachId: id,
          discoveredAt: b.discoveredAt,
          approxPeople: b.approxPeople,
          approxRecords: b.approxRecords,
        },
      });
    });
    return this.read(id);
  }

  async notify(actor: Actor, id: string, reference: string): Promise<Breach> {
    this.deps.policy.require(actor, 'oversight.manage');
    await this.read(id);
    await this.deps.store.transaction(async (tx) => {
      await repo.notified(tx, id, this.deps.clock.now().toISOString(), reference);
      await this.deps.audit.append(tx, { actor, action: 'breach.notified', detail: { breachId: id, reference } });
    });
    return this.read(id);
  }

  async decidePeople(actor: Actor, id: string, inform: boolean, reason: string): Promise<Breach> {
    this.deps.policy.require(actor, 'oversight.manage');
    if (reason.trim().length < 5)
      throw new VeilError('INVALID_INPUT', 'The decision on informing people needs its reason (Art. 34(3)).');
    await this.read(id);
    await this.deps.store.transaction(async (tx) => {
      await repo.peopleDecided(tx, id, inform, reason.trim());
      await this.deps.audit.append(tx, { actor, action: 'breach.people.decided', detail: { breachId: id, inform } });
    });
    return this.read(id);
  }

  async get(actor: Actor, id: string): Promise<Breach> {
    this.deps.policy.require(actor, 'oversight.read');
    return this.read(id);
  }

  private async read(id: string): Promise<Breach> {
    const r = await repo.get(this.deps.store.db, id);
    if (!r) throw new VeilError('NOT_FOUND', `No breach '${id}'.`);
    return this.toBreach(r);
  }

  private toBreach(r: NonNullable<Awaited<ReturnType<typeof repo.get>>>): Breach {
    const notifyBy = new Date(new Date(r.discovered_at).getTime() + NOTIFY_WITHIN_MS).toISOString();
    return {
      id: r.id,
      discoveredAt: r.discovered_at,
      nature: r.nature,
      categories: JSON.parse(r.categories),
      approxPeople: r.approx_people,
      approxRecords: r.approx_records,
      consequences: r.consequences,
      measures: r.measures,
      notifyBy,
      notifiedAt: r.notified_at,
      notificationRef: r.notification_ref,
      peopleInformed: r.people_informed === null ? null : Boolean(r.people_informed),
      peopleDecision: r.people_decision,
      overdue: !r.notified_at && notifyBy < this.deps.clock.now().toISOString(),
    };
  }

  async list(actor: Actor, opts: { overdue?: boolean } = {}): Promise<Breach[]> {
    this.deps.policy.require(actor, 'oversight.read');
    const all = (await repo.all(this.deps.store.db)).map((r) => this.toBreach(r));
    return opts.overdue ? all.filter((b) => b.overdue) : all;
  }

  /** Breaches past their 72 hours without a notification (metrics, dashboard). */
  async overdueCount(): Promise<number> {
    return (await repo.all(this.deps.store.db)).map((r) => this.toBreach(r)).filter((b) => b.overdue).length;
  }
}

import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';

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
  constructor(private readonly deps: { store: Store; audit: AuditLog; clock: Clock }) {}

  async record(raw: unknown, actor: Actor): Promise<Breach> {
    const p = BreachInputSchema.safeParse(raw);
    if (!p.success)
      throw new VeilError('INVALID_INPUT', p.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '));
    const b = p.data;
    const id = newId.other('brc');
    await this.deps.store.transaction(async (tx) => {
      await tx
        .insertInto('breaches')
        .values({
          id,
          discovered_at: b.discoveredAt,
          nature: b.nature,
          categories: JSON.stringify(b.categories),
          approx_people: b.approxPeople,
          approx_records: b.approxRecords,
          consequences: b.consequences,
          measures: b.measures,
          notified_at: null,
          notification_ref: null,
          people_informed: null,
          people_decision: null,
          created_at: this.deps.clock.now().toISOString(),
        })
        .execute();
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
    return this.get(id);
  }

  async notify(id: string, reference: string, actor: Actor): Promise<Breach> {
    await this.get(id);
    await this.deps.store.transaction(async (tx) => {
      await tx
        .updateTable('breaches')
        .set({ notified_at: this.deps.clock.now().toISOString(), notification_ref: reference })
        .where('id', '=', id)
        .execute();
      await this.deps.audit.append(tx, { actor, action: 'breach.notified', detail: { breachId: id, reference } });
    });
    return this.get(id);
  }

  async decidePeople(id: string, inform: boolean, reason: string, actor: Actor): Promise<Breach> {
    if (reason.trim().length < 5)
      throw new VeilError('INVALID_INPUT', 'The decision on informing people needs its reason (Art. 34(3)).');
    await this.get(id);
    await this.deps.store.transaction(async (tx) => {
      await tx
        .updateTable('breaches')
        .set({ people_informed: inform ? 1 : 0, people_decision: reason.trim() })
        .where('id', '=', id)
        .execute();
      await this.deps.audit.append(tx, { actor, action: 'breach.people.decided', detail: { breachId: id, inform } });
    });
    return this.get(id);
  }

  async get(id: string): Promise<Breach> {
    const r = await this.deps.store.db.selectFrom('breaches').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) throw new VeilError('NOT_FOUND', `No breach '${id}'.`);
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

  async list(opts: { overdue?: boolean } = {}): Promise<Breach[]> {
    const ids = await this.deps.store.db.selectFrom('breaches').select('id').orderBy('discovered_at').execute();
    const all = await Promise.all(ids.map((r) => this.get(r.id)));
    return opts.overdue ? all.filter((b) => b.overdue) : all;
  }
}

import type { Executor } from '../store/store.js';
import type { PurposeId } from '../ids.js';

const count = (r: { n: number | string | bigint } | undefined) => Number(r?.n ?? 0);

/** Live figures for records of processing, impact assessments and regulators' evidence. */
export const figuresRepository = {
  /** Per purpose: people, templates, kept photos, ingested photos, contacts, and who received results. */
  async forPurpose(ex: Executor, purposeId: PurposeId) {
    const n = (q: { executeTakeFirst(): Promise<{ n: number } | undefined> }) => q.executeTakeFirst().then(count);
    const enrolled = () =>
      ex
        .selectFrom('enrollments')
        .innerJoin('subjects', 'subjects.id', 'enrollments.subject_id')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('enrollments.purpose_id', '=', purposeId);
    const templates = () =>
      ex
        .selectFrom('templates')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('purpose_id', '=', purposeId);
    return {
      subjects: await n(enrolled().where('subjects.state', '!=', 'erased')),
      templates: await n(templates()),
      keptPhotos: await n(templates().where('image_path', 'is not', null)),
      media: await n(
        ex
          .selectFrom('media')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('purpose_id', '=', purposeId),
      ),
      contacts: await n(enrolled().where('subjects.contact_sealed', 'is not', null)),
      searches: await n(
        ex
          .selectFrom('searches')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('purpose_id', '=', purposeId),
      ),
      // Recipients actually observed: who ran searches that disclosed someone under this purpose.
      observedRecipients: (
        await ex
          .selectFrom('searches')
          .select(['actor_kind', 'actor_id', (eb) => eb.fn.countAll<number>().as('n')])
          .where('purpose_id', '=', purposeId)
          .where('result_count', '>', 0)
          .groupBy(['actor_kind', 'actor_id'])
          .execute()
      ).map((o) => ({ actor: `${o.actor_kind}:${o.actor_id}`, disclosingSearches: Number(o.n) })),
    };
  },

  /** Whole-system counts, as a regulator's order records them at receipt and at the end. */
  async totals(ex: Executor) {
    const n = async (t: 'templates' | 'searches' | 'media') =>
      count(
        await ex
          .selectFrom(t)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .executeTakeFirst(),
      );
    const subjects = count(
      await ex
        .selectFrom('subjects')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('state', '!=', 'erased')
        .executeTakeFirst(),
    );
    return { subjects, templates: await n('templates'), searches: await n('searches'), media: await n('media') };
  },
};

export const orderRepository = {
  async insert(
    ex: Executor,
    o: {
      id: string;
      authority: string;
      reference: string;
      receivedAt: string;
      deadline: string;
      demands: unknown;
      counts: unknown;
    },
  ): Promise<void> {
    await ex
      .insertInto('orders')
      .values({
        id: o.id,
        authority: o.authority,
        reference: o.reference,
        received_at: o.receivedAt,
        deadline: o.deadline,
        demands: JSON.stringify(o.demands),
        counts_at_receipt: JSON.stringify(o.counts),
        status: 'open',
        closed_at: null,
      })
      .execute();
  },

  async addAction(
    ex: Executor,
    a: { orderId: string; kind: string; description: string; auditSeq: number; at: string },
  ): Promise<void> {
    const n = await ex
      .selectFrom('order_actions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('order_id', '=', a.orderId)
      .executeTakeFirst();
    await ex
      .insertInto('order_actions')
      .values({
        order_id: a.orderId,
        seq: count(n) + 1,
        kind: a.kind,
        description: a.description,
        audit_seq: a.auditSeq,
        at: a.at,
      })
      .execute();
  },

  async close(ex: Executor, id: string, at: string): Promise<void> {
    await ex.updateTable('orders').set({ status: 'closed', closed_at: at }).where('id', '=', id).execute();
  },

  async get(ex: Executor, id: string) {
    const row = await ex.selectFrom('orders').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const actions = await ex
      .selectFrom('order_actions')
      .selectAll()
      .where('order_id', '=', id)
      .orderBy('seq')
      .execute();
    return { row, actions };
  },

  async ids(ex: Executor): Promise<string[]> {
    return (await ex.selectFrom('orders').select('id').orderBy('deadline').execute()).map((r) => r.id);
  },
};

export const breachRepository = {
  async insert(
    ex: Executor,
    b: {
      id: string;
      discoveredAt: string;
      nature: string;
      categories: readonly string[];
      approxPeople: number;
      approxRecords: number;
      consequences: string;
      measures: string;
      createdAt: string;
    },
  ): Promise<void> {
    await ex
      .insertInto('breaches')
      .values({
        id: b.id,
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
        created_at: b.createdAt,
      })
      .execute();
  },

  async notified(ex: Executor, id: string, at: string, reference: string): Promise<void> {
    await ex
      .updateTable('breaches')
      .set({ notified_at: at, notification_ref: reference })
      .where('id', '=', id)
      .execute();
  },

  async peopleDecided(ex: Executor, id: string, inform: boolean, reason: string): Promise<void> {
    await ex
      .updateTable('breaches')
      .set({ people_informed: inform ? 1 : 0, people_decision: reason })
      .where('id', '=', id)
      .execute();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('breaches').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async all(ex: Executor) {
    return ex.selectFrom('breaches').selectAll().orderBy('discovered_at').execute();
  },
};

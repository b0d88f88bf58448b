import type { Executor } from '../store/store.js';

export const suppressionRepository = {
  async insert(
    ex: Executor,
    s: { id: string; model: string; sealed: Buffer; reason: string; at: string },
  ): Promise<void> {
    await ex
      .insertInto('suppressions')
      .values({ id: s.id, model: s.model, sealed: s.sealed, reason: s.reason, created_at: s.at })
      .execute();
  },

  async has(ex: Executor, id: string): Promise<boolean> {
    return (await ex.selectFrom('suppressions').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  },

  /** A fingerprint of the table: changes whenever any process adds an entry. */
  async stamp(ex: Executor): Promise<string> {
    const f = await ex
      .selectFrom('suppressions')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('last'), eb.fn.max('id').as('top')])
      .executeTakeFirstOrThrow();
    return `${Number(f.n)}|${f.last ?? ''}|${f.top ?? ''}`;
  },

  async countsByModel(ex: Executor): Promise<{ model: string; entries: number }[]> {
    const rows = await ex
      .selectFrom('suppressions')
      .select((eb) => ['model', eb.fn.countAll<number>().as('n')])
      .groupBy('model')
      .orderBy('model')
      .execute();
    return rows.map((r) => ({ model: r.model, entries: Number(r.n) }));
  },

  async all(ex: Executor, model: string) {
    return ex.selectFrom('suppressions').select(['id', 'sealed']).where('model', '=', model).execute();
  },
};

import { sql } from 'kysely';
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

  /**
   * Entries whose journal key (owner `<keyOwnerPrefix><id>`) no row names, nor ever named: entries
   * from before their lines were written (restore-journal.ts). Only `id`, when given.
   */
  async withoutKey(ex: Executor, keyOwnerPrefix: string, id?: string): Promise<string[]> {
    let q = ex
      .selectFrom('suppressions')
      .leftJoin('key_slots', (j) => j.on(sql<boolean>`key_slots.owner_id = ${keyOwnerPrefix} || suppressions.id`))
      .select('suppressions.id')
      .where('key_slots.slot', 'is', null);
    if (id !== undefined) q = q.where('suppressions.id', '=', id);
    return (await q.orderBy('suppressions.id').execute()).map((r) => r.id);
  },

  /** One entry, its row locked (PostgreSQL) against another process writing its journal line at once. */
  async locked(ex: Executor, id: string, engine: 'sqlite' | 'postgres') {
    const q = ex.selectFrom('suppressions').select(['model', 'sealed', 'reason', 'created_at']).where('id', '=', id);
    return (engine === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
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

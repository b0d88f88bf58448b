import type { Executor } from '../store/store.js';

/** The index change feed's rows: "look again at this subject", in commit order. */
export const indexChangeRepository = {
  async insert(ex: Executor, subjectId: string, at: string): Promise<void> {
    await ex.insertInto('index_changes').values({ subject_id: subjectId, at }).execute();
  },

  async lastSeq(ex: Executor): Promise<number> {
    const r = await ex
      .selectFrom('index_changes')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  async firstSeq(ex: Executor): Promise<number> {
    const r = await ex
      .selectFrom('index_changes')
      .select((eb) => eb.fn.min('seq').as('m'))
      .executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  async after(ex: Executor, cursor: number, limit: number) {
    return ex
      .selectFrom('index_changes')
      .select(['seq', 'subject_id'])
      .where('seq', '>', cursor)
      .orderBy('seq')
      .limit(limit)
      .execute();
  },

  /** Whether the subject has an entry after `seq` (one committed since that position was read). */
  async touchedAfter(ex: Executor, seq: number, subjectId: string): Promise<boolean> {
    const r = await ex
      .selectFrom('index_changes')
      .select('seq')
      .where('seq', '>', seq)
      .where('subject_id', '=', subjectId)
      .limit(1)
      .executeTakeFirst();
    return r !== undefined;
  },

  async pruneUpTo(ex: Executor, seq: number): Promise<void> {
    await ex.deleteFrom('index_changes').where('seq', '<=', seq).execute();
  },
};

import type { Executor } from '../store/store.js';

export const subjectStateRepository = {
  /** Of these ids, the subjects the database holds as not erased (500 ids a query). */
  async notErased(ex: Executor, ids: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .selectFrom('subjects')
        .select('id')
        .where('id', 'in', ids.slice(i, i + 500))
        .where('state', '!=', 'erased')
        .execute();
      for (const r of rows) out.add(r.id);
    }
    return out;
  },
};

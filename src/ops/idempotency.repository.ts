import type { Executor } from '../store/store.js';

/** `status` 0 marks a claim whose request is still being carried out. */
export const PENDING = 0;

export const idempotencyRepository = {
  async get(ex: Executor, key: string) {
    return ex.selectFrom('idempotency').selectAll().where('key', '=', key).executeTakeFirst();
  },

  /** Inserts a pending claim; false when the key is already claimed or answered (the unique key decides). */
  async claim(ex: Executor, r: { key: string; fingerprint: string; createdAt: string }): Promise<boolean> {
    const res = await ex
      .insertInto('idempotency')
      .values({ key: r.key, fingerprint: r.fingerprint, status: PENDING, body: '', created_at: r.createdAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  async complete(ex: Executor, key: string, status: number, body: string): Promise<void> {
    await ex
      .updateTable('idempotency')
      .set({ status, body })
      .where('key', '=', key)
      .where('status', '=', PENDING)
      .execute();
  },

  /** Drops a pending claim: its request failed, or its process died before answering (`before`). */
  async release(ex: Executor, key: string, before?: string): Promise<void> {
    let q = ex.deleteFrom('idempotency').where('key', '=', key).where('status', '=', PENDING);
    if (before) q = q.where('created_at', '<', before);
    await q.execute();
  },

  async deleteBefore(ex: Executor, before: string): Promise<void> {
    await ex.deleteFrom('idempotency').where('created_at', '<', before).execute();
  },
};

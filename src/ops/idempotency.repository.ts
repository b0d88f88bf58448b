import type { Executor } from '../store/store.js';

export const idempotencyRepository = {
  async get(ex: Executor, key: string) {
    return ex.selectFrom('idempotency').selectAll().where('key', '=', key).executeTakeFirst();
  },

  async put(
    ex: Executor,
    r: { key: string; fingerprint: string; status: number; body: string; createdAt: string },
  ): Promise<void> {
    await ex
      .insertInto('idempotency')
      .values({ key: r.key, fingerprint: r.fingerprint, status: r.status, body: r.body, created_at: r.createdAt })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
  },

  async deleteBefore(ex: Executor, before: string): Promise<void> {
    await ex.deleteFrom('idempotency').where('created_at', '<', before).execute();
  },
};

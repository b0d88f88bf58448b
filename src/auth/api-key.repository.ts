import type { Executor } from '../store/store.js';

export const apiKeyRepository = {
  async insert(
    ex: Executor,
    k: { id: string; name: string; role: string; purposes: readonly string[]; secretHash: string; createdAt: string },
  ): Promise<void> {
    await ex
      .insertInto('api_keys')
      .values({
        id: k.id,
        name: k.name,
        role: k.role,
        purposes: JSON.stringify(k.purposes),
        secret_hash: k.secretHash,
        created_at: k.createdAt,
        revoked_at: null,
      })
      .execute();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async all(ex: Executor) {
    return ex.selectFrom('api_keys').selectAll().orderBy('created_at').execute();
  },

  /** Replaces a key's stored secret hash (an old scrypt hash upgraded on its first good use). */
  async setSecretHash(ex: Executor, id: string, from: string, to: string): Promise<void> {
    await ex
      .updateTable('api_keys')
      .set({ secret_hash: to })
      .where('id', '=', id)
      .where('secret_hash', '=', from)
      .execute();
  },

  /** Revokes an active key; false when there is none by that id. */
  async revoke(ex: Executor, id: string, at: string): Promise<boolean> {
    const r = await ex
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
};

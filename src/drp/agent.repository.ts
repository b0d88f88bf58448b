import type { Executor } from '../store/store.js';

/** The registered authorized agents (the protocol's service directory, kept by an admin). */
export const agentRepository = {
  async insert(
    ex: Executor,
    a: {
      id: string;
      name: string;
      verifyKey: string;
      callbackOrigin: string | null;
      webUrl: string | null;
      createdAt: string;
    },
  ): Promise<void> {
    await ex
      .insertInto('drp_agents')
      .values({
        id: a.id,
        name: a.name,
        verify_key: a.verifyKey,
        callback_origin: a.callbackOrigin,
        web_url: a.webUrl,
        token_hash: null,
        token_issued_at: null,
        created_at: a.createdAt,
        revoked_at: null,
      })
      .execute();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('drp_agents').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async all(ex: Executor) {
    return ex.selectFrom('drp_agents').selectAll().orderBy('created_at').orderBy('id').execute();
  },

  async byTokenHash(ex: Executor, hash: string) {
    return ex
      .selectFrom('drp_agents')
      .selectAll()
      .where('token_hash', '=', hash)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
  },

  /** A new pair-wise token replaces the agent's previous one. */
  async setToken(ex: Executor, id: string, hash: string, at: string): Promise<void> {
    await ex
      .updateTable('drp_agents')
      .set({ token_hash: hash, token_issued_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .execute();
  },

  /** Revokes an active agent and its token; false when there is none by that id. */
  async revoke(ex: Executor, id: string, at: string): Promise<boolean> {
    const r = await ex
      .updateTable('drp_agents')
      .set({ revoked_at: at, token_hash: null })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
};

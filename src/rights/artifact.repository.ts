import type { Executor } from '../store/store.js';

/** Derived files (exports) and the subjects they derive from, so erasure can find and destroy them. */
export const artifactRepository = {
  async insert(
    ex: Executor,
    a: { id: string; kind: string; path: string; subjectIds: readonly string[]; createdAt: string; expiresAt: string },
  ): Promise<void> {
    await ex
      .insertInto('artifacts')
      .values({
        id: a.id,
        kind: a.kind,
        path: a.path,
        subject_ids: ` ${a.subjectIds.join(' ')} `,
        created_at: a.createdAt,
        expires_at: a.expiresAt,
      })
      .execute();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('artifacts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async derivedFrom(ex: Executor, subjectId: string) {
    return ex.selectFrom('artifacts').select(['id', 'path']).where('subject_ids', 'like', `% ${subjectId} %`).execute();
  },

  /** The files written for one request (their names start with its id). */
  async ofRequest(ex: Executor, requestId: string) {
    return ex.selectFrom('artifacts').select(['id', 'path']).where('path', 'like', `exports/${requestId}.%`).execute();
  },

  async expiredBefore(ex: Executor, now: string) {
    return ex.selectFrom('artifacts').select(['id', 'path']).where('expires_at', '<', now).execute();
  },

  async deleteMany(ex: Executor, ids: readonly string[]): Promise<void> {
    if (ids.length)
      await ex
        .deleteFrom('artifacts')
        .where('id', 'in', [...ids])
        .execute();
  },
};

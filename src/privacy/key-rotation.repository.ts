import type { Executor } from '../store/store.js';

/**
 * Every column sealed under a key derived from the master key, and the keyed contact hashes. `limit`:
 * the first few only, for a restore trying which master's keys open them (derived-reseal.ts).
 */
export const keyRotationRepository = {
  async requests(ex: Executor, limit?: number) {
    return ex
      .selectFrom('rights_requests')
      .select(['id', 'contact_sealed', 'fulfil_options'])
      .orderBy('id')
      .$if(limit !== undefined, (q) => q.limit(limit!))
      .execute();
  },

  async updateRequest(
    ex: Executor,
    id: string,
    v: { contact_sealed: Buffer; contact_hash: string; fulfil_options: Buffer | null },
  ): Promise<void> {
    await ex.updateTable('rights_requests').set(v).where('id', '=', id).execute();
  },

  async enrollments(ex: Executor, limit?: number) {
    return ex
      .selectFrom('portal_enrollments')
      .select(['id', 'contact_sealed'])
      .orderBy('id')
      .$if(limit !== undefined, (q) => q.limit(limit!))
      .execute();
  },

  async updateEnrollment(ex: Executor, id: string, v: { contact_sealed: Buffer; contact_hash: string }): Promise<void> {
    await ex.updateTable('portal_enrollments').set(v).where('id', '=', id).execute();
  },

  async suppressions(ex: Executor, limit?: number) {
    return ex
      .selectFrom('suppressions')
      .select(['id', 'sealed'])
      .orderBy('id')
      .$if(limit !== undefined, (q) => q.limit(limit!))
      .execute();
  },

  async updateSuppression(ex: Executor, id: string, sealed: Buffer): Promise<void> {
    await ex.updateTable('suppressions').set({ sealed }).where('id', '=', id).execute();
  },

  /** Subjects with a contact (sealed under their own key; only the hash follows the master key). */
  async subjectContacts(ex: Executor) {
    return ex
      .selectFrom('subjects')
      .select(['id', 'contact_sealed'])
      .where('contact_sealed', 'is not', null)
      .where('state', '!=', 'erased')
      .orderBy('id')
      .execute();
  },

  async updateSubjectHash(ex: Executor, id: string, contactHash: string | null): Promise<void> {
    await ex.updateTable('subjects').set({ contact_hash: contactHash }).where('id', '=', id).execute();
  },

  /** Rate-limit buckets are keyed hashes of addresses and IPs: under a new key they are new buckets. */
  async clearRateLimits(ex: Executor): Promise<void> {
    await ex.deleteFrom('rate_limits').execute();
  },

  async mediaFiles(ex: Executor) {
    return ex.selectFrom('media').select(['id', 'stored_path as path']).execute();
  },

  async exportFiles(ex: Executor) {
    return (await ex.selectFrom('artifacts').select(['id', 'path']).where('path', 'like', 'exports/%').execute()).map(
      (r) => ({ id: r.id, path: r.path! }),
    );
  },
};

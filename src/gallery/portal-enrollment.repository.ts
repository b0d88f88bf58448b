import type { Updateable } from 'kysely';
import type { Executor } from '../store/store.js';
import type { PortalEnrollmentsTable } from '../store/schema.js';

/** Enrollments a person starts in the portal: an address proven by code before any face is taken. */
export const portalEnrollmentRepository = {
  async insert(
    ex: Executor,
    e: {
      id: string;
      purposeId: string;
      contactHash: string;
      contactSealed: Buffer;
      language: string;
      codeHash: string;
      codeExpiresAt: string;
      at: string;
    },
  ): Promise<void> {
    await ex
      .insertInto('portal_enrollments')
      .values({
        id: e.id,
        purpose_id: e.purposeId,
        contact_hash: e.contactHash,
        contact_sealed: e.contactSealed,
        language: e.language,
        code_hash: e.codeHash,
        code_expires_at: e.codeExpiresAt,
        code_attempts: 0,
        state: 'pending',
        consent_id: null,
        created_at: e.at,
        decided_at: null,
        decision_note: null,
      })
      .execute();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('portal_enrollments').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async update(ex: Executor, id: string, set: Updateable<PortalEnrollmentsTable>): Promise<void> {
    await ex.updateTable('portal_enrollments').set(set).where('id', '=', id).execute();
  },

  /** One attempt at the code, counted atomically; undefined once `max` were used. */
  async claimCodeAttempt(ex: Executor, id: string, max: number): Promise<number | undefined> {
    const r = await ex
      .updateTable('portal_enrollments')
      .set((eb) => ({ code_attempts: eb('code_attempts', '+', 1) }))
      .where('id', '=', id)
      .where('code_attempts', '<', max)
      .returning('code_attempts')
      .executeTakeFirst();
    return r?.code_attempts;
  },

  async held(ex: Executor) {
    return ex.selectFrom('portal_enrollments').selectAll().where('state', '=', 'held').orderBy('created_at').execute();
  },

  /** Codes never used expire: the rows go (they hold a sealed address and nothing else). */
  async deletePendingBefore(ex: Executor, before: string): Promise<void> {
    await ex.deleteFrom('portal_enrollments').where('state', '=', 'pending').where('created_at', '<', before).execute();
  },
};

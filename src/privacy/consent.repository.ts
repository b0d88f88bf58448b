import type { Executor } from '../store/store.js';
import type { ConsentId, PurposeId, SubjectId } from '../ids.js';
import type { ConsentRecord, ConsentState, CollectionMethod } from './consent.js';

const expiredButGiven = (ex: Executor, now: string) =>
  ex
    .selectFrom('consents')
    .where('state', '=', 'given')
    .where('expires_at', 'is not', null)
    .where('expires_at', '<', now);

export const consentRepository = {
  /**
   * A consent's state, read under a row lock on PostgreSQL (SQLite's writers are serialised already):
   * an enrollment resting on it and its withdrawal then commit one after the other, never across.
   */
  async lockedState(
    ex: Executor,
    id: ConsentId,
    engine: 'sqlite' | 'postgres',
  ): Promise<{ state: ConsentState; expiresAt: string | null } | undefined> {
    const r = await ex
      .selectFrom('consents')
      .select(['state', 'expires_at'])
      .where('id', '=', id)
      .$if(engine === 'postgres', (q) => q.forUpdate())
      .executeTakeFirst();
    return r && { state: r.state as ConsentState, expiresAt: r.expires_at };
  },

  async insert(ex: Executor, c: ConsentRecord, actor: string): Promise<void> {
    await ex
      .insertInto('consents')
      .values({
        id: c.id,
        subject_id: c.subjectId,
        purpose_id: c.purposeId,
        notice_text: c.noticeText,
        notice_version: c.noticeVersion,
        notice_hash: c.noticeHash,
        given_at: c.givenAt,
        method: c.method,
        collector: c.collector,
        jurisdiction: c.jurisdiction,
        withdrawal_method: c.withdrawalMethod,
        state: c.state,
        state_at: c.stateAt,
        expires_at: c.expiresAt,
      })
      .execute();
    await ex
      .insertInto('consent_events')
      .values({ consent_id: c.id, seq: 1, state: c.state, at: c.stateAt, actor })
      .execute();
  },

  async setState(ex: Executor, id: ConsentId, state: ConsentState, at: string, actor: string): Promise<void> {
    await ex.updateTable('consents').set({ state, state_at: at }).where('id', '=', id).execute();
    const n = await ex
      .selectFrom('consent_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('consent_id', '=', id)
      .executeTakeFirst();
    await ex
      .insertInto('consent_events')
      .values({ consent_id: id, seq: Number(n?.n ?? 0) + 1, state, at, actor })
      .execute();
  },

  async get(ex: Executor, id: string): Promise<ConsentRecord | undefined> {
    const r = await ex.selectFrom('consents').selectAll().where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    const history = await ex
      .selectFrom('consent_events')
      .select(['state', 'at', 'actor'])
      .where('consent_id', '=', id)
      .orderBy('seq')
      .execute();
    return {
      id: r.id as ConsentId,
      subjectId: r.subject_id as SubjectId,
      purposeId: r.purpose_id as PurposeId,
      noticeText: r.notice_text,
      noticeVersion: r.notice_version,
      noticeHash: r.notice_hash,
      givenAt: r.given_at,
      method: r.method as CollectionMethod,
      collector: r.collector,
      jurisdiction: r.jurisdiction,
      withdrawalMethod: r.withdrawal_method,
      state: r.state as ConsentState,
      stateAt: r.state_at,
      expiresAt: r.expires_at,
      history: history.map((h) => ({ state: h.state as ConsentState, at: h.at, actor: h.actor })),
    };
  },

  async forSubject(ex: Executor, subjectId: SubjectId): Promise<ConsentRecord[]> {
    const ids = await ex
      .selectFrom('consents')
      .select('id')
      .where('subject_id', '=', subjectId)
      .orderBy('given_at')
      .execute();
    return Promise.all(ids.map(async (r) => (await consentRepository.get(ex, r.id))!));
  },

  async latestGiven(ex: Executor, subjectId: SubjectId, purposeId: PurposeId): Promise<ConsentId | undefined> {
    const r = await ex
      .selectFrom('consents')
      .select('id')
      .where('subject_id', '=', subjectId)
      .where('purpose_id', '=', purposeId)
      .where('state', '=', 'given')
      .orderBy('given_at', 'desc')
      .executeTakeFirst();
    return r?.id as ConsentId | undefined;
  },

  /** Consents still marked given whose own expiry date has passed (the retention job expires them). */
  async expiredButGiven(ex: Executor, now: string) {
    return expiredButGiven(ex, now).select(['id', 'subject_id', 'purpose_id', 'expires_at']).execute();
  },

  /** Whether any consent still marked given is past its own expiry (the minute check: cheap, one row at most). */
  async anyExpiredButGiven(ex: Executor, now: string): Promise<boolean> {
    return (await expiredButGiven(ex, now).select('id').limit(1).executeTakeFirst()) !== undefined;
  },

  /** The consents of one subject and purpose in a state (e.g. every given one, to expire them). */
  async idsFor(ex: Executor, subjectId: SubjectId, purposeId: PurposeId, state: ConsentState): Promise<ConsentId[]> {
    const rows = await ex
      .selectFrom('consents')
      .select('id')
      .where('subject_id', '=', subjectId)
      .where('purpose_id', '=', purposeId)
      .where('state', '=', state)
      .execute();
    return rows.map((r) => r.id as ConsentId);
  },

  /** Erasure: the records go, their history with them (cascade); the audit log keeps that they existed. */
  async deleteForSubject(ex: Executor, subjectId: SubjectId): Promise<number> {
    const r = await ex.deleteFrom('consents').where('subject_id', '=', subjectId).executeTakeFirst();
    return Number(r.numDeletedRows);
  },
};

import type { Updateable } from 'kysely';
import type { Executor } from '../store/store.js';
import type { RightsRequestsTable } from '../store/schema.js';
import type { SubjectId } from '../ids.js';
import type { RequestKind, RequestState, Review, ReviewState, RightsRequest } from './request.js';

type Row = RightsRequestsTable & { code_attempts: number; matched_subjects: string };

function toReview(r: Row): Review | null {
  if (!r.review_state) return null;
  const approved = ids(r.review_subjects ?? '');
  const items = r.face_matches ? (JSON.parse(r.face_matches) as { items: Review['items'] }).items : [];
  // Reviews decided before items carried their own decision read as decided item by item.
  const decided = r.review_state !== 'pending';
  return {
    state: r.review_state as ReviewState,
    items: items.map((i) =>
      i.decision || !decided
        ? i
        : { ...i, decision: approved.includes(i.subjectId) ? ('approved' as const) : ('rejected' as const) },
    ),
    approved,
    liveness: r.liveness ?? 'not checked',
    note: r.review_note,
    by: r.reviewed_by,
    at: r.reviewed_at,
  };
}

const ids = (s: string) => s.trim().split(' ').filter(Boolean) as SubjectId[];

function toRequest(r: Row, history: RightsRequest['history']): RightsRequest {
  return {
    id: r.id,
    kind: r.kind as RequestKind,
    state: r.state as RequestState,
    language: r.language === 'fr' ? 'fr' : 'en',
    claimedSubjectId: r.claimed_subject_id,
    claimedConsentId: r.claimed_consent_id,
    details: r.details,
    receivedAt: r.received_at,
    dueAt: r.due_at,
    extendedDueAt: r.extended_due_at,
    extensionReason: r.extension_reason,
    verifiedAt: r.verified_at,
    verification: r.verification,
    matchedSubjects: ids(r.matched_subjects),
    review: toReview(r),
    outcome: r.outcome ? JSON.parse(r.outcome) : null,
    denialReason: r.denial_reason,
    denialGround: r.denial_ground,
    closedAt: r.closed_at,
    agentId: r.agent_id ?? null,
    history,
  };
}

export const requestRepository = {
  async insert(
    ex: Executor,
    r: {
      id: string;
      kind: RequestKind;
      contactHash: string;
      contactSealed: Buffer;
      language: string;
      claimedSubjectId: string | null;
      claimedConsentId: string | null;
      details: string;
      receivedAt: string;
      dueAt: string;
      agentId?: string | null;
    },
  ) {
    await ex
      .insertInto('rights_requests')
      .values({
        id: r.id,
        kind: r.kind,
        state: 'received',
        contact_hash: r.contactHash,
        contact_sealed: r.contactSealed,
        language: r.language,
        claimed_subject_id: r.claimedSubjectId,
        claimed_consent_id: r.claimedConsentId,
        details: r.details,
        received_at: r.receivedAt,
        due_at: r.dueAt,
        extended_due_at: null,
        extension_reason: null,
        code_hash: null,
        code_expires_at: null,
        verified_at: null,
        verification: null,
        pending_selfie: null,
        download_token_hash: null,
        outcome: null,
        denial_reason: null,
        denial_ground: null,
        closed_at: null,
        face_matches: null,
        review_state: null,
        review_subjects: null,
        review_note: null,
        reviewed_by: null,
        reviewed_at: null,
        liveness: null,
        resends: 0,
        fulfil_started_at: null,
        fulfil_options: null,
        agent_id: r.agentId ?? null,
      })
      .execute();
  },

  async row(ex: Executor, id: string): Promise<Row | undefined> {
    return (await ex.selectFrom('rights_requests').selectAll().where('id', '=', id).executeTakeFirst()) as
      Row | undefined;
  },

  async get(ex: Executor, id: string): Promise<RightsRequest | undefined> {
    const r = await requestRepository.row(ex, id);
    if (!r) return undefined;
    const h = await ex
      .selectFrom('rights_events')
      .select(['state', 'at', 'actor', 'note'])
      .where('request_id', '=', id)
      .orderBy('seq')
      .execute();
    return toRequest(
      r,
      h.map((x) => ({ state: x.state as RequestState, at: x.at, actor: x.actor, note: x.note })),
    );
  },

  async list(
    ex: Executor,
    where: { states?: readonly RequestState[]; dueBefore?: string } = {},
  ): Promise<RightsRequest[]> {
    let q = ex.selectFrom('rights_requests').selectAll().orderBy('received_at');
    if (where.states) q = q.where('state', 'in', [...where.states]);
    if (where.dueBefore) q = q.where((eb) => eb(eb.fn.coalesce('extended_due_at', 'due_at'), '<', where.dueBefore!));
    return (await q.execute()).map((r) => toRequest(r as Row, []));
  },

  async update(ex: Executor, id: string, set: Updateable<RightsRequestsTable>): Promise<void> {
    await ex.updateTable('rights_requests').set(set).where('id', '=', id).execute();
  },

  /**
   * Moves the request from one state to another only if it is still in the first: of two runs that
   * both read 'identity_pending' (two correct codes sent at once), one moves it and the other fails.
   */
  async moveState(
    ex: Executor,
    id: string,
    from: RequestState,
    set: Updateable<RightsRequestsTable> & { state: RequestState },
  ): Promise<boolean> {
    const r = await ex
      .updateTable('rights_requests')
      .set(set)
      .where('id', '=', id)
      .where('state', '=', from)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },

  /** One attempt at the code, counted atomically before it is compared; undefined once `max` were used. */
  async claimCodeAttempt(ex: Executor, id: string, max: number): Promise<number | undefined> {
    const r = await ex
      .updateTable('rights_requests')
      .set((eb) => ({ code_attempts: eb('code_attempts', '+', 1) }))
      .where('id', '=', id)
      .where('code_attempts', '<', max)
      .returning('code_attempts')
      .executeTakeFirst();
    return r?.code_attempts;
  },

  async addEvent(
    ex: Executor,
    id: string,
    state: RequestState,
    at: string,
    actor: string,
    note: string | null,
  ): Promise<void> {
    const n = await ex
      .selectFrom('rights_events')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('request_id', '=', id)
      .executeTakeFirst();
    await ex
      .insertInto('rights_events')
      .values({ request_id: id, seq: Number(n?.n ?? 0) + 1, state, at, actor, note })
      .execute();
  },

  /** Erasure: the selfie templates kept with requests that matched this subject; returns their request ids. */
  async selfiesOf(ex: Executor, subjectId: string): Promise<string[]> {
    const rows = await ex
      .selectFrom('rights_requests')
      .select('id')
      .where('pending_selfie', 'is not', null)
      .where((eb) =>
        eb.or([eb('matched_subjects', 'like', `% ${subjectId} %`), eb('face_matches', 'like', `%"${subjectId}"%`)]),
      )
      .execute();
    return rows.map((r) => r.id);
  },

  /** Requests still holding a selfie template verified before a time (kept a day at most). */
  async selfiesVerifiedBefore(ex: Executor, before: string): Promise<string[]> {
    const rows = await ex
      .selectFrom('rights_requests')
      .select('id')
      .where('pending_selfie', 'is not', null)
      .where('verified_at', '<', before)
      .execute();
    return rows.map((r) => r.id);
  },

  async clearSelfies(ex: Executor, ids: readonly string[]): Promise<void> {
    if (ids.length)
      await ex
        .updateTable('rights_requests')
        .set({ pending_selfie: null })
        .where('id', 'in', [...ids])
        .execute();
  },
};

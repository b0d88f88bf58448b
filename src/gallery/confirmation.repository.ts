import type { Selectable } from 'kysely';
import type { Executor } from '../store/store.js';
import type { MatchConfirmationsTable } from '../store/schema-confirmations.js';
import type { SearchId, SubjectId } from '../ids.js';
import type { MatchDecision } from './match-confirmation.js';

export interface ConfirmationRow {
  readonly id: string;
  readonly searchId: SearchId;
  readonly face: number;
  readonly subjectId: SubjectId;
  readonly decision: MatchDecision;
  readonly actorKind: string;
  readonly actorId: string;
  readonly actorRole: string;
  readonly requestId: string | null;
  readonly at: string;
}

type Row = Selectable<MatchConfirmationsTable>;

const toRow = (r: Row): ConfirmationRow => ({
  id: r.id,
  searchId: r.search_id as SearchId,
  face: Number(r.face),
  subjectId: r.subject_id as SubjectId,
  decision: r.decision as MatchDecision,
  actorKind: r.actor_kind,
  actorId: r.actor_id,
  actorRole: r.actor_role,
  requestId: r.request_id,
  at: r.at,
});

/** Decisions on matches (migration 15): append-only while the search is kept; erasure removes them (search.repository.ts). */
export const confirmationRepository = {
  async insert(ex: Executor, c: ConfirmationRow): Promise<void> {
    await ex
      .insertInto('match_confirmations')
      .values({
        id: c.id,
        search_id: c.searchId,
        face: c.face,
        subject_id: c.subjectId,
        decision: c.decision,
        actor_kind: c.actorKind,
        actor_id: c.actorId,
        actor_role: c.actorRole,
        request_id: c.requestId,
        at: c.at,
      })
      .execute();
  },

  async ofSearch(ex: Executor, searchId: SearchId): Promise<ConfirmationRow[]> {
    const rows = await ex
      .selectFrom('match_confirmations')
      .selectAll()
      .where('search_id', '=', searchId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  },

  /** Every decision on a match that returned this subject (the access export; contests). */
  async ofSubject(ex: Executor, subjectId: SubjectId): Promise<ConfirmationRow[]> {
    const rows = await ex
      .selectFrom('match_confirmations')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .orderBy('at')
      .orderBy('id')
      .execute();
    return rows.map(toRow);
  },
};

import type { Executor } from '../store/store.js';
import type { PurposeId, SearchId, SubjectId } from '../ids.js';

export interface SearchRecord {
  id: SearchId;
  kind: 'identify' | 'verify';
  purposeId: PurposeId;
  actorKind: string;
  actorId: string;
  caseRef: string | null;
  justification: string | null;
  probeSha256: string;
  k: number;
  threshold: number;
  /** Identify: matchable templates searched and the FPIR its threshold targets (version 11). */
  gallerySize?: number | undefined;
  fpir?: number | undefined;
  at: string;
  /** The box of each face searched (identify); `results[].face` is a position in this list. */
  faces?: readonly { x: number; y: number; width: number; height: number }[] | undefined;
  /** Ranks count within a face: face 2's best candidate is rank 1. */
  results: { subjectId: SubjectId; similarity: number; face?: number | undefined; rank?: number | undefined }[];
  /** The purpose's confirmation rule when the search was made (version 15; 0: none). */
  confirmations?: number | undefined;
}

const roundBox = (b: { x: number; y: number; width: number; height: number }) => ({
  x: Math.round(b.x),
  y: Math.round(b.y),
  width: Math.round(b.width),
  height: Math.round(b.height),
});

export const searchRepository = {
  async insert(ex: Executor, s: SearchRecord): Promise<void> {
    await ex
      .insertInto('searches')
      .values({
        id: s.id,
        kind: s.kind,
        purpose_id: s.purposeId,
        actor_kind: s.actorKind,
        actor_id: s.actorId,
        case_ref: s.caseRef,
        justification: s.justification,
        probe_sha256: s.probeSha256,
        k: s.k,
        threshold: s.threshold,
        gallery_size: s.gallerySize ?? null,
        fpir: s.fpir ?? null,
        result_count: s.results.length,
        at: s.at,
        faces: s.faces ? JSON.stringify(s.faces.map(roundBox)) : null,
        confirmations: s.confirmations || null,
      })
      .execute();
    if (s.results.length) {
      await ex
        .insertInto('search_results')
        .values(
          s.results.map((r, i) => ({
            search_id: s.id,
            face: r.face ?? 0,
            subject_id: r.subjectId,
            similarity: r.similarity,
            rank: r.rank ?? i + 1,
          })),
        )
        .execute();
    }
  },

  /** One search's purpose, kind, rule and results, for the decisions on its matches. */
  async get(ex: Executor, id: string) {
    const s = await ex
      .selectFrom('searches')
      .select(['id', 'kind', 'purpose_id', 'actor_kind', 'actor_id', 'at', 'confirmations'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!s) return undefined;
    const results = await ex
      .selectFrom('search_results')
      .select(['face', 'subject_id', 'similarity', 'rank'])
      .where('search_id', '=', id)
      .orderBy('face')
      .orderBy('rank')
      .execute();
    return {
      id: s.id as SearchId,
      kind: s.kind,
      purposeId: s.purpose_id as PurposeId,
      actor: `${s.actor_kind}:${s.actor_id}`,
      at: s.at,
      confirmations: s.confirmations ?? 0,
      results: results.map((r) => ({
        face: Number(r.face),
        subjectId: r.subject_id as SubjectId,
        similarity: r.similarity,
        rank: Number(r.rank),
      })),
    };
  },

  /** Every search that returned this subject: who received their data, when, why (Art. 15(1)(c), 19). */
  async disclosuresOf(ex: Executor, subjectId: SubjectId) {
    return ex
      .selectFrom('search_results')
      .innerJoin('searches', 'searches.id', 'search_results.search_id')
      .select([
        'searches.id',
        'searches.kind',
        'searches.purpose_id',
        'searches.actor_kind',
        'searches.actor_id',
        'searches.case_ref',
        'searches.justification',
        'searches.at',
        'search_results.similarity',
        'search_results.rank',
        'search_results.face',
        'searches.confirmations',
      ])
      .where('search_results.subject_id', '=', subjectId)
      .orderBy('searches.at')
      .execute();
  },

  /**
   * Erasure: the person disappears from past results, and the decisions on those matches with them
   * (the searches themselves and the audit entries stay, as accountability).
   */
  async deleteResultsOf(ex: Executor, subjectId: SubjectId): Promise<number> {
    await ex.deleteFrom('match_confirmations').where('subject_id', '=', subjectId).execute();
    const r = await ex.deleteFrom('search_results').where('subject_id', '=', subjectId).executeTakeFirst();
    return Number(r.numDeletedRows);
  },

  async countBefore(ex: Executor, before: string): Promise<number> {
    const r = await ex
      .selectFrom('searches')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('at', '<', before)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },

  async deleteBefore(ex: Executor, before: string): Promise<void> {
    await ex.deleteFrom('searches').where('at', '<', before).execute();
  },

  async since(ex: Executor, since: string) {
    return ex.selectFrom('searches').select(['purpose_id', 'at']).where('at', '>=', since).execute();
  },

  async countForPurpose(ex: Executor, purposeId: PurposeId): Promise<number> {
    const r = await ex
      .selectFrom('searches')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('purpose_id', '=', purposeId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },
};

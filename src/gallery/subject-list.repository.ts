import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId } from '../ids.js';
import type { Subject, SubjectState } from './subject.js';

export interface SubjectSearch {
  readonly purposeIds: readonly PurposeId[];
  readonly state?: SubjectState | undefined;
  /** Only these subjects (found by their contact's keyed hash). */
  readonly ids?: readonly SubjectId[] | undefined;
  readonly text?: string | undefined;
  readonly after?: { createdAt: string; id: string } | undefined;
  readonly limit: number;
}

/** The console's subject list: search and paging under the caller's purposes, and who viewed whom. */
export const subjectListRepository = {
  /**
   * Subjects with data (an enrollment, a consent in any state, a template) under one of `purposeIds`,
   * newest first, after the cursor; `text` is a subject id prefix, a consent id or a source reference
   * under those purposes. Erased subjects keep no such data, so they never appear.
   */
  async search(ex: Executor, q: SubjectSearch): Promise<{ rows: Subject[]; total: number }> {
    if (!q.purposeIds.length || (q.ids && !q.ids.length)) return { rows: [], total: 0 };
    const P = [...q.purposeIds];
    let b = ex
      .selectFrom('subjects')
      .where((eb) =>
        eb.or([
          eb.exists(
            eb
              .selectFrom('enrollments')
              .select('enrollments.subject_id')
              .whereRef('enrollments.subject_id', '=', 'subjects.id')
              .where('enrollments.purpose_id', 'in', P),
          ),
          eb.exists(
            eb
              .selectFrom('consents')
              .select('consents.subject_id')
              .whereRef('consents.subject_id', '=', 'subjects.id')
              .where('consents.purpose_id', 'in', P),
          ),
          eb.exists(
            eb
              .selectFrom('templates')
              .select('templates.subject_id')
              .whereRef('templates.subject_id', '=', 'subjects.id')
              .where('templates.purpose_id', 'in', P),
          ),
        ]),
      );
    if (q.state) b = b.where('subjects.state', '=', q.state);
    if (q.ids) b = b.where('subjects.id', 'in', [...q.ids]);
    const text = q.text?.trim();
    if (text) {
      // Ids are [A-Za-z0-9_-]: anything else cannot be part of one (and would be a LIKE wildcard).
      const prefix = text.replace(/[^A-Za-z0-9_-]/g, '');
      b = b.where((eb) =>
        eb.or([
          ...(prefix ? [eb('subjects.id', 'like', `${prefix}%`)] : []),
          eb.exists(
            eb
              .selectFrom('consents')
              .select('consents.id')
              .whereRef('consents.subject_id', '=', 'subjects.id')
              .where('consents.id', '=', text)
              .where('consents.purpose_id', 'in', P),
          ),
          eb.exists(
            eb
              .selectFrom('enrollments')
              .select('enrollments.subject_id')
              .whereRef('enrollments.subject_id', '=', 'subjects.id')
              .where('enrollments.source_reference', '=', text)
              .where('enrollments.purpose_id', 'in', P),
          ),
        ]),
      );
    }
    const total = await b.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
    let page = b.selectAll('subjects');
    if (q.after) {
      const a = q.after;
      page = page.where((eb) =>
        eb.or([
          eb('subjects.created_at', '<', a.createdAt),
          eb.and([eb('subjects.created_at', '=', a.createdAt), eb('subjects.id', '<', a.id)]),
        ]),
      );
    }
    const rows = await page
      .orderBy('subjects.created_at', 'desc')
      .orderBy('subjects.id', 'desc')
      .limit(q.limit)
      .execute();
    return {
      total: Number(total?.n ?? 0),
      rows: rows.map((r) => ({
        id: r.id as SubjectId,
        state: r.state as SubjectState,
        region: r.region,
        hasContact: r.contact_sealed !== null,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      })),
    };
  },

  /** For a page of subjects: their enrollments, consents and template counts, per purpose. */
  async listDetails(ex: Executor, ids: readonly SubjectId[]) {
    if (!ids.length) return { enrollments: [], consents: [], templates: [] };
    const I = [...ids];
    const [enrollments, consents, templates] = await Promise.all([
      ex
        .selectFrom('enrollments')
        .select(['subject_id', 'purpose_id', 'consent_id', 'source_reference', 'last_interaction_at'])
        .where('subject_id', 'in', I)
        .execute(),
      ex
        .selectFrom('consents')
        .select(['id', 'subject_id', 'purpose_id', 'state', 'state_at'])
        .where('subject_id', 'in', I)
        .orderBy('given_at')
        .execute(),
      ex
        .selectFrom('templates')
        .select(['subject_id', 'purpose_id', (eb) => eb.fn.countAll<number>().as('n')])
        .where('subject_id', 'in', I)
        .groupBy(['subject_id', 'purpose_id'])
        .execute(),
    ]);
    return { enrollments, consents, templates: templates.map((t) => ({ ...t, n: Number(t.n) })) };
  },

  /** Who viewed this subject's record in the console or the API (the `subject.viewed` audit entries). */
  async viewsOf(ex: Executor, subjectId: SubjectId) {
    return ex
      .selectFrom('audit_entries')
      .select(['seq', 'time', 'actor_kind', 'actor_id', 'purpose_id', 'body'])
      .where('action', '=', 'subject.viewed')
      .where('subject_ids', 'like', `% ${subjectId} %`)
      .orderBy('seq')
      .execute();
  },
};

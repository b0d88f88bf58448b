import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';

/** A template made by another embedder than the active one, with what deciding its fate needs. */
export interface StaleTemplateRow {
  readonly id: TemplateId;
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly purposeKey: string;
  readonly model: string;
  readonly subjectState: string;
  readonly keepsPhotos: boolean;
  readonly imagePath: string | null;
  readonly consentId: string | null;
  readonly sourceReference: string | null;
}

export const modelSwitchRepository = {
  /** Templates per model id, with how many have a kept enrollment photo. */
  async countsByModel(ex: Executor): Promise<{ model: string; templates: number; withPhoto: number }[]> {
    const rows = await ex
      .selectFrom('templates')
      .select((eb) => ['model', eb.fn.countAll<number>().as('n'), eb.fn.count<number>('image_path').as('photos')])
      .groupBy('model')
      .orderBy('model')
      .execute();
    return rows.map((r) => ({ model: r.model, templates: Number(r.n), withPhoto: Number(r.photos) }));
  },

  /** The state of a template's subject now; null once the template is gone (replaced, withdrawn, erased). */
  async templateSubjectState(ex: Executor, templateId: string): Promise<string | null> {
    const r = await ex
      .selectFrom('templates')
      .innerJoin('subjects', 'subjects.id', 'templates.subject_id')
      .select('subjects.state')
      .where('templates.id', '=', templateId)
      .executeTakeFirst();
    return r?.state ?? null;
  },

  /** Templates of any model but `model`, a page at a time in template id order (a run resumes after any id). */
  async stale(ex: Executor, model: string, afterId: string, limit: number): Promise<StaleTemplateRow[]> {
    const rows = await ex
      .selectFrom('templates')
      .innerJoin('subjects', 'subjects.id', 'templates.subject_id')
      .innerJoin('purposes', 'purposes.id', 'templates.purpose_id')
      .leftJoin('enrollments', (j) =>
        j
          .onRef('enrollments.subject_id', '=', 'templates.subject_id')
          .onRef('enrollments.purpose_id', '=', 'templates.purpose_id'),
      )
      .select([
        'templates.id',
        'templates.subject_id',
        'templates.purpose_id',
        'templates.model',
        'templates.image_path',
        'purposes.key as purpose_key',
        'purposes.keep_source_images',
        'subjects.state',
        'enrollments.consent_id',
        'enrollments.source_reference',
      ])
      .where('templates.model', '!=', model)
      .where('templates.id', '>', afterId)
      .orderBy('templates.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id as TemplateId,
      subjectId: r.subject_id as SubjectId,
      purposeId: r.purpose_id as PurposeId,
      purposeKey: r.purpose_key,
      model: r.model,
      subjectState: r.state,
      keepsPhotos: Boolean(r.keep_source_images),
      imagePath: r.image_path,
      consentId: r.consent_id ?? null,
      sourceReference: r.source_reference ?? null,
    }));
  },
};

import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';
import type { Subject, SubjectState } from './subject.js';

export interface TemplateRow {
  id: TemplateId;
  subjectId: SubjectId;
  purposeId: PurposeId;
  model: string;
  quality: Record<string, number>;
  sourceSha256: string;
  sealed: Buffer;
  imagePath: string | null;
  createdAt: string;
}

/** A subject as stored: with its sealed contact and the keyed hash that finds it. */
export type SubjectRow = Subject & { contactSealed: Buffer | null; contactHash: string | null };

export const subjectRepository = {
  async insert(
    ex: Executor,
    s: { id: SubjectId; region: string | null; contactHash: string | null; contactSealed: Buffer | null; at: string },
  ): Promise<void> {
    await ex
      .insertInto('subjects')
      .values({
        id: s.id,
        state: 'active',
        region: s.region,
        contact_hash: s.contactHash,
        contact_sealed: s.contactSealed,
        created_at: s.at,
        updated_at: s.at,
      })
      .execute();
  },

  async get(
    ex: Executor,
    id: string,
  ): Promise<(Subject & { contactSealed: Buffer | null; contactHash: string | null }) | undefined> {
    const r = await ex.selectFrom('subjects').selectAll().where('id', '=', id).executeTakeFirst();
    return (
      r && {
        id: r.id as SubjectId,
        state: r.state as SubjectState,
        region: r.region,
        hasContact: r.contact_sealed !== null,
        contactSealed: r.contact_sealed,
        contactHash: r.contact_hash,
        createdAt: r.created_at,
        updatedAt: r.updated_at,
      }
    );
  },

  /** Rows locked first by every change of face data (shared by an enrollment): each sees the other's templates. */
  async lockForChange(ex: Executor, ids: readonly SubjectId[], engine: 'sqlite' | 'postgres', share = false) {
    if (engine !== 'postgres' || !ids.length) return;
    const q = ex.selectFrom('subjects').select('id').where('id', 'in', ids).orderBy('id');
    await (share ? q.forShare() : q.forNoKeyUpdate()).execute();
  },

  async setState(ex: Executor, id: SubjectId, state: SubjectState, at: string): Promise<void> {
    await ex.updateTable('subjects').set({ state, updated_at: at }).where('id', '=', id).execute();
  },

  async setContact(
    ex: Executor,
    id: SubjectId,
    contactHash: string | null,
    contactSealed: Buffer | null,
    at: string,
  ): Promise<void> {
    await ex
      .updateTable('subjects')
      .set({ contact_hash: contactHash, contact_sealed: contactSealed, updated_at: at })
      .where('id', '=', id)
      .execute();
  },

  async byContactHash(ex: Executor, hash: string): Promise<SubjectId[]> {
    return (
      await ex
        .selectFrom('subjects')
        .select('id')
        .where('contact_hash', '=', hash)
        .where('state', '!=', 'erased')
        .execute()
    ).map((r) => r.id as SubjectId);
  },

  async enrollment(ex: Executor, subjectId: SubjectId, purposeId: PurposeId) {
    return ex
      .selectFrom('enrollments')
      .selectAll()
      .where('subject_id', '=', subjectId)
      .where('purpose_id', '=', purposeId)
      .executeTakeFirst();
  },

  async upsertEnrollment(
    ex: Executor,
    e: {
      subjectId: SubjectId;
      purposeId: PurposeId;
      consentId: string | null;
      sourceReference: string | null;
      at: string;
    },
  ): Promise<void> {
    await ex
      .insertInto('enrollments')
      .values({
        subject_id: e.subjectId,
        purpose_id: e.purposeId,
        consent_id: e.consentId,
        source_reference: e.sourceReference,
        created_at: e.at,
        last_interaction_at: e.at,
      })
      .onConflict((oc) =>
        oc
          .columns(['subject_id', 'purpose_id'])
          .doUpdateSet({ consent_id: e.consentId, source_reference: e.sourceReference, last_interaction_at: e.at }),
      )
      .execute();
  },

  async deleteEnrollment(ex: Executor, subjectId: SubjectId, purposeId: PurposeId): Promise<void> {
    await ex
      .deleteFrom('enrollments')
      .where('subject_id', '=', subjectId)
      .where('purpose_id', '=', purposeId)
      .execute();
  },

  async insertTemplate(ex: Executor, t: TemplateRow, dims: number): Promise<void> {
    await ex
      .insertInto('templates')
      .values({
        id: t.id,
        subject_id: t.subjectId,
        purpose_id: t.purposeId,
        model: t.model,
        dims,
        quality: JSON.stringify(t.quality),
        source_sha256: t.sourceSha256,
        sealed: t.sealed,
        image_path: t.imagePath,
        created_at: t.createdAt,
      })
      .execute();
  },

  async templates(
    ex: Executor,
    where: { subjectId?: SubjectId; purposeId?: PurposeId; matchableOnly?: boolean; model?: string },
  ): Promise<TemplateRow[]> {
    let q = ex
      .selectFrom('templates')
      .innerJoin('subjects', 'subjects.id', 'templates.subject_id')
      .selectAll('templates');
    if (where.subjectId) q = q.where('templates.subject_id', '=', where.subjectId);
    if (where.purposeId) q = q.where('templates.purpose_id', '=', where.purposeId);
    // Another model's template is another vector space: never compared (TemplateVault names the model).
    if (where.model) q = q.where('templates.model', '=', where.model);
    if (where.matchableOnly) {
      q = q
        .where('subjects.state', '=', 'active')
        .innerJoin('enrollments', (j) =>
          j
            .onRef('enrollments.subject_id', '=', 'templates.subject_id')
            .onRef('enrollments.purpose_id', '=', 'templates.purpose_id'),
        )
        .leftJoin('consents', 'consents.id', 'enrollments.consent_id')
        // A consent-based enrollment matches only while its consent is given. A suspended purpose's
        // templates stay in the index: the policy refuses its processing (matchable.repository.ts).
        .where((eb) => eb.or([eb('enrollments.consent_id', 'is', null), eb('consents.state', '=', 'given')]));
    }
    const rows = await q.orderBy('templates.created_at').orderBy('templates.id').execute();
    return rows.map((r) => ({
      id: r.id as TemplateId,
      subjectId: r.subject_id as SubjectId,
      purposeId: r.purpose_id as PurposeId,
      model: r.model,
      quality: JSON.parse(r.quality),
      sourceSha256: r.source_sha256,
      sealed: r.sealed,
      imagePath: r.image_path,
      createdAt: r.created_at,
    }));
  },

  async deleteTemplates(
    ex: Executor,
    where: { subjectId: SubjectId; purposeId?: PurposeId; templateId?: TemplateId },
  ): Promise<TemplateRow[]> {
    const gone = (
      await subjectRepository.templates(ex, {
        subjectId: where.subjectId,
        ...(where.purposeId ? { purposeId: where.purposeId } : {}),
      })
    ).filter((t) => !where.templateId || t.id === where.templateId);
    if (gone.length)
      await ex
        .deleteFrom('templates')
        .where(
          'id',
          'in',
          gone.map((t) => t.id),
        )
        .execute();
    return gone;
  },

  /** Deletes one template; false when it was already gone (on PostgreSQL: deleted by a transaction that committed first). */
  async deleteTemplate(ex: Executor, id: TemplateId): Promise<boolean> {
    const r = await ex.deleteFrom('templates').where('id', '=', id).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Every purpose a subject has data under (enrollments, consents in any state, templates). */
  async purposesOf(ex: Executor, subjectId: SubjectId): Promise<PurposeId[]> {
    const rows = await ex
      .selectFrom('enrollments')
      .select('purpose_id')
      .where('subject_id', '=', subjectId)
      .union(ex.selectFrom('consents').select('purpose_id').where('subject_id', '=', subjectId))
      .union(ex.selectFrom('templates').select('purpose_id').where('subject_id', '=', subjectId))
      .execute();
    return rows.map((r) => r.purpose_id as PurposeId);
  },

  async enrollments(ex: Executor, subjectId: SubjectId) {
    return ex.selectFrom('enrollments').selectAll().where('subject_id', '=', subjectId).execute();
  },

  async deleteEnrollments(ex: Executor, subjectId: SubjectId): Promise<void> {
    await ex.deleteFrom('enrollments').where('subject_id', '=', subjectId).execute();
  },

  /** What is left of an erased subject: an id and a state, no contact, no region. */
  async tombstone(ex: Executor, id: SubjectId, at: string): Promise<void> {
    await ex
      .updateTable('subjects')
      .set({ state: 'erased', contact_hash: null, contact_sealed: null, region: null, updated_at: at })
      .where('id', '=', id)
      .execute();
  },

  async idsInState(ex: Executor, state: SubjectState): Promise<SubjectId[]> {
    return (await ex.selectFrom('subjects').select('id').where('state', '=', state).execute()).map(
      (r) => r.id as SubjectId,
    );
  },

  /** Enrollments of subjects not erased, with when they were last used (retention runs from it). */
  async liveEnrollments(ex: Executor) {
    return ex
      .selectFrom('enrollments')
      .innerJoin('subjects', 'subjects.id', 'enrollments.subject_id')
      .select(['enrollments.subject_id', 'enrollments.purpose_id', 'enrollments.last_interaction_at'])
      .where('subjects.state', '!=', 'erased')
      .execute();
  },

  async template(ex: Executor, id: string): Promise<TemplateRow | undefined> {
    const r = await ex.selectFrom('templates').select('subject_id').where('id', '=', id).executeTakeFirst();
    if (!r) return undefined;
    return (await subjectRepository.templates(ex, { subjectId: r.subject_id as SubjectId })).find((t) => t.id === id);
  },

  async countForPurpose(ex: Executor, table: 'enrollments' | 'templates', purposeId: PurposeId): Promise<number> {
    const r = await ex
      .selectFrom(table)
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('purpose_id', '=', purposeId)
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  },

  /** Whether this subject currently may match under this purpose (defence in depth over the index). */
  async matchable(ex: Executor, subjectIds: readonly SubjectId[], purposeId: PurposeId): Promise<Set<SubjectId>> {
    if (!subjectIds.length) return new Set();
    const rows = await ex
      .selectFrom('enrollments')
      .innerJoin('subjects', 'subjects.id', 'enrollments.subject_id')
      .leftJoin('consents', 'consents.id', 'enrollments.consent_id')
      .select('enrollments.subject_id')
      .where('enrollments.purpose_id', '=', purposeId)
      .where('enrollments.subject_id', 'in', [...subjectIds])
      .where('subjects.state', '=', 'active')
      .where((eb) => eb.or([eb('enrollments.consent_id', 'is', null), eb('consents.state', '=', 'given')]))
      .execute();
    return new Set(rows.map((r) => r.subject_id as SubjectId));
  },
};

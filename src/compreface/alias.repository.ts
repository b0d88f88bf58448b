import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId } from '../ids.js';

export interface AliasRow {
  readonly purposeId: PurposeId;
  readonly aliasKey: string;
  readonly alias: string;
  readonly subjectId: SubjectId | null;
}

export interface CompreFaceKeyRow {
  readonly keyId: string;
  readonly purposeId: PurposeId;
  readonly sourceReference: string | null;
  readonly justification: string;
}

const toAlias = (r: { purpose_id: string; alias_key: string; alias: string; subject_id: string | null }): AliasRow => ({
  purposeId: r.purpose_id as PurposeId,
  aliasKey: r.alias_key,
  alias: r.alias,
  subjectId: r.subject_id as SubjectId | null,
});

/** CompreFace subject names (purpose-scoped aliases of subjects) and compatibility keys: all their SQL. */
export const aliasRepository = {
  async get(ex: Executor, purposeId: PurposeId, aliasKey: string): Promise<AliasRow | undefined> {
    const r = await ex
      .selectFrom('compreface_aliases')
      .selectAll()
      .where('purpose_id', '=', purposeId)
      .where('alias_key', '=', aliasKey)
      .executeTakeFirst();
    return r && toAlias(r);
  },

  async list(ex: Executor, purposeId: PurposeId): Promise<AliasRow[]> {
    const rows = await ex
      .selectFrom('compreface_aliases')
      .selectAll()
      .where('purpose_id', '=', purposeId)
      .orderBy('alias_key')
      .execute();
    return rows.map(toAlias);
  },

  /** The names a subject has, in one purpose or all. */
  async ofSubject(ex: Executor, subjectId: SubjectId, purposeId?: PurposeId): Promise<AliasRow[]> {
    let q = ex.selectFrom('compreface_aliases').selectAll().where('subject_id', '=', subjectId);
    if (purposeId) q = q.where('purpose_id', '=', purposeId);
    return (await q.execute()).map(toAlias);
  },

  async insert(
    ex: Executor,
    a: { purposeId: PurposeId; aliasKey: string; alias: string; subjectId: SubjectId | null; at: string },
  ): Promise<void> {
    await ex
      .insertInto('compreface_aliases')
      .values({
        purpose_id: a.purposeId,
        alias_key: a.aliasKey,
        alias: a.alias,
        subject_id: a.subjectId,
        created_at: a.at,
      })
      .execute();
  },

  async link(ex: Executor, purposeId: PurposeId, aliasKey: string, subjectId: SubjectId): Promise<void> {
    await ex
      .updateTable('compreface_aliases')
      .set({ subject_id: subjectId })
      .where('purpose_id', '=', purposeId)
      .where('alias_key', '=', aliasKey)
      .execute();
  },

  async rename(ex: Executor, purposeId: PurposeId, from: string, to: { aliasKey: string; alias: string }) {
    await ex
      .updateTable('compreface_aliases')
      .set({ alias_key: to.aliasKey, alias: to.alias })
      .where('purpose_id', '=', purposeId)
      .where('alias_key', '=', from)
      .execute();
  },

  async delete(ex: Executor, purposeId: PurposeId, aliasKey: string): Promise<boolean> {
    const r = await ex
      .deleteFrom('compreface_aliases')
      .where('purpose_id', '=', purposeId)
      .where('alias_key', '=', aliasKey)
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  },

  /** Removes a subject's names (in one purpose, or everywhere): the face-data lifecycle calls this. */
  async removeForSubject(ex: Executor, subjectId: SubjectId, purposeId?: PurposeId): Promise<number> {
    let q = ex.deleteFrom('compreface_aliases').where('subject_id', '=', subjectId);
    if (purposeId) q = q.where('purpose_id', '=', purposeId);
    return Number((await q.executeTakeFirst()).numDeletedRows);
  },

  /** Templates (CompreFace "faces") of a purpose whose subject has a name there, oldest first. */
  async faces(
    ex: Executor,
    purposeId: PurposeId,
    where: { aliasKey?: string; templateIds?: readonly string[]; offset?: number; limit?: number } = {},
  ): Promise<{ templateId: string; subjectId: SubjectId; alias: string; aliasKey: string; hasImage: boolean }[]> {
    let q = ex
      .selectFrom('templates')
      .innerJoin('compreface_aliases', (j) =>
        j
          .onRef('compreface_aliases.subject_id', '=', 'templates.subject_id')
          .onRef('compreface_aliases.purpose_id', '=', 'templates.purpose_id'),
      )
      .select([
        'templates.id as id',
        'templates.subject_id as subject_id',
        'templates.image_path as image_path',
        'compreface_aliases.alias as alias',
        'compreface_aliases.alias_key as alias_key',
      ])
      .where('templates.purpose_id', '=', purposeId);
    if (where.aliasKey !== undefined) q = q.where('compreface_aliases.alias_key', '=', where.aliasKey);
    if (where.templateIds) {
      if (!where.templateIds.length) return [];
      q = q.where('templates.id', 'in', [...where.templateIds]);
    }
    q = q.orderBy('templates.created_at').orderBy('templates.id');
    if (where.limit !== undefined) q = q.limit(where.limit).offset(where.offset ?? 0);
    return (await q.execute()).map((r) => ({
      templateId: r.id,
      subjectId: r.subject_id as SubjectId,
      alias: r.alias,
      aliasKey: r.alias_key,
      hasImage: r.image_path !== null,
    }));
  },

  async countFaces(ex: Executor, purposeId: PurposeId, aliasKey?: string): Promise<number> {
    let q = ex
      .selectFrom('templates')
      .innerJoin('compreface_aliases', (j) =>
        j
          .onRef('compreface_aliases.subject_id', '=', 'templates.subject_id')
          .onRef('compreface_aliases.purpose_id', '=', 'templates.purpose_id'),
      )
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('templates.purpose_id', '=', purposeId);
    if (aliasKey !== undefined) q = q.where('compreface_aliases.alias_key', '=', aliasKey);
    return Number((await q.executeTakeFirst())?.n ?? 0);
  },

  async insertKey(ex: Executor, k: CompreFaceKeyRow & { at: string }): Promise<void> {
    await ex
      .insertInto('compreface_keys')
      .values({
        key_id: k.keyId,
        purpose_id: k.purposeId,
        source_reference: k.sourceReference,
        justification: k.justification,
        created_at: k.at,
      })
      .execute();
  },

  async key(ex: Executor, keyId: string): Promise<CompreFaceKeyRow | undefined> {
    const r = await ex.selectFrom('compreface_keys').selectAll().where('key_id', '=', keyId).executeTakeFirst();
    return (
      r && {
        keyId: r.key_id,
        purposeId: r.purpose_id as PurposeId,
        sourceReference: r.source_reference,
        justification: r.justification,
      }
    );
  },
};

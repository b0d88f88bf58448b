import type { Executor } from '../store/store.js';
import type { MediaId, PurposeId, SubjectId } from '../ids.js';
import type { Box } from '../face/geometry.js';

export interface MediaFaceRow {
  id: string;
  box: Box;
  detScore: number;
  subjectId: SubjectId | null;
  similarity: number | null;
}

/** A sighting's face crop, sealed under its subject's data key (TemplateVault.sealCrop). */
export interface SightingCropRow {
  faceId: string;
  subjectId: SubjectId;
  sealed: Buffer;
}

export interface MediaSummaryRow {
  id: MediaId;
  purposeId: PurposeId;
  filename: string;
  width: number;
  height: number;
  ingestedAt: string;
  faces: number;
  sightings: number;
}

export const mediaRepository = {
  async bySha(ex: Executor, purposeId: PurposeId, sha256: string) {
    return ex
      .selectFrom('media')
      .selectAll()
      .where('purpose_id', '=', purposeId)
      .where('sha256', '=', sha256)
      .executeTakeFirst();
  },

  async get(ex: Executor, id: string) {
    return ex.selectFrom('media').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async insert(
    ex: Executor,
    m: {
      id: MediaId;
      purposeId: PurposeId;
      sha256: string;
      filename: string;
      width: number;
      height: number;
      storedPath: string;
      at: string;
    },
    faces: readonly MediaFaceRow[],
    crops: readonly SightingCropRow[] = [],
  ): Promise<void> {
    await ex
      .insertInto('media')
      .values({
        id: m.id,
        purpose_id: m.purposeId,
        sha256: m.sha256,
        filename: m.filename,
        width: m.width,
        height: m.height,
        stored_path: m.storedPath,
        ingested_at: m.at,
      })
      .execute();
    if (faces.length) {
      await ex
        .insertInto('media_faces')
        .values(
          faces.map((f) => ({
            id: f.id,
            media_id: m.id,
            box: JSON.stringify(f.box),
            det_score: f.detScore,
            subject_id: f.subjectId,
            similarity: f.similarity,
            created_at: m.at,
          })),
        )
        .execute();
    }
    for (let i = 0; i < crops.length; i += 100)
      await ex
        .insertInto('sighting_crops')
        .values(
          crops.slice(i, i + 100).map((c) => ({
            face_id: c.faceId,
            subject_id: c.subjectId,
            sealed: c.sealed,
            created_at: m.at,
          })),
        )
        .execute();
  },

  /** The sealed crops of these sightings of the subject that have one (sightings ingested before version 14 have none). */
  async cropsOf(ex: Executor, subjectId: SubjectId, faceIds: readonly string[]): Promise<Map<string, Buffer>> {
    if (!faceIds.length) return new Map();
    const rows = await ex
      .selectFrom('sighting_crops')
      .select(['face_id', 'sealed'])
      .where('subject_id', '=', subjectId)
      .where('face_id', 'in', [...faceIds])
      .execute();
    return new Map(rows.map((r) => [r.face_id, r.sealed]));
  },

  async faces(ex: Executor, mediaId: string): Promise<MediaFaceRow[]> {
    const rows = await ex.selectFrom('media_faces').selectAll().where('media_id', '=', mediaId).orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      box: JSON.parse(r.box) as Box,
      detScore: r.det_score,
      subjectId: r.subject_id as SubjectId | null,
      similarity: r.similarity,
    }));
  },

  /** The person's sightings: photos they were matched in, with the box of their face. */
  async sightingsOf(ex: Executor, subjectId: SubjectId) {
    const rows = await ex
      .selectFrom('media_faces')
      .innerJoin('media', 'media.id', 'media_faces.media_id')
      .select([
        'media_faces.id',
        'media_faces.media_id',
        'media_faces.box',
        'media_faces.similarity',
        'media.purpose_id',
        'media.ingested_at',
        'media.filename',
      ])
      .where('media_faces.subject_id', '=', subjectId)
      .orderBy('media.ingested_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      mediaId: r.media_id as MediaId,
      box: JSON.parse(r.box) as Box,
      similarity: r.similarity ?? 0,
      purposeId: r.purpose_id as PurposeId,
      ingestedAt: r.ingested_at,
      filename: r.filename,
    }));
  },

  /** How many faces in a purpose's photos are linked to a person (sightings made by matching). */
  async sightingCount(ex: Executor, purposeId: PurposeId): Promise<number> {
    const r = await ex
      .selectFrom('media_faces')
      .innerJoin('media', 'media.id', 'media_faces.media_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('media.purpose_id', '=', purposeId)
      .where('media_faces.subject_id', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },

  /** A purpose left (consent withdrawn or expired): the person's faces in that purpose's photos become anonymous. */
  async unlinkSubjectIn(ex: Executor, subjectId: SubjectId, purposeId: PurposeId): Promise<number> {
    const inPurpose = ex.selectFrom('media').select('id').where('purpose_id', '=', purposeId);
    // The crops go with the link, in the same transaction: a face no longer theirs keeps no crop of them.
    await ex
      .deleteFrom('sighting_crops')
      .where('subject_id', '=', subjectId)
      .where('face_id', 'in', ex.selectFrom('media_faces').select('id').where('media_id', 'in', inPurpose))
      .execute();
    const r = await ex
      .updateTable('media_faces')
      .set({ subject_id: null, similarity: null })
      .where('subject_id', '=', subjectId)
      .where('media_id', 'in', inPurpose)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  },

  /** Erasure: the person's face in each photo becomes an anonymous box (it is still blurred on redaction). */
  async unlinkSubject(ex: Executor, subjectId: SubjectId): Promise<number> {
    await ex.deleteFrom('sighting_crops').where('subject_id', '=', subjectId).execute();
    const r = await ex
      .updateTable('media_faces')
      .set({ subject_id: null, similarity: null })
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  },

  /** Photos of these purposes with their numbers of faces and sightings, by (ingested_at, id), after a position. */
  async list(
    ex: Executor,
    purposeIds: readonly PurposeId[],
    after: { at: string; id: string } | null,
    limit: number,
  ): Promise<MediaSummaryRow[]> {
    if (!purposeIds.length) return [];
    let q = ex
      .selectFrom('media')
      .leftJoin('media_faces', 'media_faces.media_id', 'media.id')
      .select(['media.id', 'media.purpose_id', 'media.filename', 'media.width', 'media.height', 'media.ingested_at'])
      .select((eb) => [
        eb.fn.count('media_faces.id').as('faces'),
        eb.fn.count('media_faces.subject_id').as('sightings'),
      ])
      .where('media.purpose_id', 'in', [...purposeIds]);
    if (after)
      q = q.where((eb) =>
        eb.or([
          eb('media.ingested_at', '>', after.at),
          eb.and([eb('media.ingested_at', '=', after.at), eb('media.id', '>', after.id)]),
        ]),
      );
    const rows = await q.groupBy('media.id').orderBy('media.ingested_at').orderBy('media.id').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id as MediaId,
      purposeId: r.purpose_id as PurposeId,
      filename: r.filename,
      width: r.width,
      height: r.height,
      ingestedAt: r.ingested_at,
      faces: Number(r.faces),
      sightings: Number(r.sightings),
    }));
  },

  async all(ex: Executor) {
    return ex.selectFrom('media').select(['id', 'purpose_id', 'ingested_at', 'stored_path']).execute();
  },

  async deleteMany(ex: Executor, ids: readonly string[]): Promise<void> {
    if (ids.length)
      await ex
        .deleteFrom('media')
        .where('id', 'in', [...ids])
        .execute();
  },
};

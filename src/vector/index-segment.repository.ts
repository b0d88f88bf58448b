import type { Executor } from '../store/store.js';
import type { PurposeId } from '../ids.js';

/** A sealed segment of the index snapshot, as the database names it. */
export interface SegmentRow {
  readonly id: string;
  readonly model: string;
  readonly purposeId: PurposeId;
  readonly subjectLo: string;
  readonly subjectHi: string;
  readonly templates: number;
  readonly createdAt: string;
  /** The change-feed position its rows are current at (null: unknown, written before migration 17). */
  readonly feedSeq: number | null;
}

/** The index snapshot's segments (migration 16): a few dozen rows at a million templates. */
export const indexSegmentRepository = {
  async insert(ex: Executor, s: SegmentRow): Promise<void> {
    await ex
      .insertInto('index_segments')
      .values({
        id: s.id,
        model: s.model,
        purpose_id: s.purposeId,
        subject_lo: s.subjectLo,
        subject_hi: s.subjectHi,
        templates: s.templates,
        created_at: s.createdAt,
        feed_seq: s.feedSeq,
      })
      .execute();
  },

  /** Every segment of every model (the table is small: ranges are compared in code, by code unit). */
  async all(ex: Executor): Promise<SegmentRow[]> {
    const rows = await ex.selectFrom('index_segments').selectAll().orderBy('id').execute();
    return rows.map((r) => ({
      id: r.id,
      model: r.model,
      purposeId: r.purpose_id as PurposeId,
      subjectLo: r.subject_lo,
      subjectHi: r.subject_hi,
      templates: Number(r.templates),
      createdAt: r.created_at,
      feedSeq: r.feed_seq === null ? null : Number(r.feed_seq),
    }));
  },

  /** Whether the row is still there (a change to a person it holds deletes it). */
  async has(ex: Executor, id: string): Promise<boolean> {
    return (await ex.selectFrom('index_segments').select('id').where('id', '=', id).executeTakeFirst()) !== undefined;
  },

  /** Deletes the rows; returns the ids that were there (another process may have deleted some first). */
  async delete(ex: Executor, ids: readonly string[]): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .deleteFrom('index_segments')
        .where('id', 'in', ids.slice(i, i + 500))
        .returning('id')
        .execute();
      out.push(...rows.map((r) => r.id));
    }
    return out;
  },
};

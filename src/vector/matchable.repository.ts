import { sql } from 'kysely';
import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';

/** What the index rebuild needs of a template that may match now, with the keystore slot of its key. */
export interface MatchableRow {
  readonly id: TemplateId;
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly sealed: Buffer;
  readonly slot: number;
}

/** A matchable row without its sealed template. */
export type MatchableRef = Omit<MatchableRow, 'sealed'>;

/**
 * Templates that may match now, of one model: the rules of the rebuild's read (below), in this one
 * place. Every read of which templates may match (a page, the narrow start-up reads) starts here.
 * A suspended purpose's templates stay: AccessPolicy refuses its processing (the one place that
 * decides it), and the rights face finder must still find its people (Art. 15, 17).
 */
const matchableOf = (ex: Executor, model: string) =>
  ex
    .selectFrom('templates')
    .innerJoin('subjects', 'subjects.id', 'templates.subject_id')
    .innerJoin('enrollments', (j) =>
      j
        .onRef('enrollments.subject_id', '=', 'templates.subject_id')
        .onRef('enrollments.purpose_id', '=', 'templates.purpose_id'),
    )
    .leftJoin('consents', 'consents.id', 'enrollments.consent_id')
    .innerJoin('purposes', 'purposes.id', 'templates.purpose_id')
    .innerJoin('key_slots', 'key_slots.owner_id', 'templates.subject_id')
    // Only the active embedder's templates: another model's are another vector space.
    .where('templates.model', '=', model)
    .where('subjects.state', '=', 'active')
    .where((eb) => eb.or([eb('enrollments.consent_id', 'is', null), eb('consents.state', '=', 'given')]))
    // Written so that no index applies: SQLite would otherwise start from key_slots (by its
    // destroyed_at index) and sort the whole join for every page, instead of walking templates by id.
    .where(sql<string | null>`key_slots.destroyed_at || ''`, 'is', null);

/** The same rows after `afterId`, in template id order (the rebuild's pages). */
const matchable = (ex: Executor, afterId: string, model: string) =>
  matchableOf(ex, model).where('templates.id', '>', afterId).orderBy('templates.id');

const REF_COLUMNS = ['templates.id', 'templates.subject_id', 'templates.purpose_id', 'key_slots.slot'] as const;
const toRef = (r: { id: string; subject_id: string; purpose_id: string; slot: number | bigint | string }) => ({
  id: r.id as TemplateId,
  subjectId: r.subject_id as SubjectId,
  purposeId: r.purpose_id as PurposeId,
  slot: Number(r.slot),
});

/** A closed range of subject ids (either end absent: unbounded), compared by code unit. */
export interface SubjectSpan {
  readonly from?: string;
  readonly to?: string;
}

/**
 * The index rebuild's read: templates that may match now (active subject, enrolled, consent given
 * where the enrollment rests on one, purpose active, key not destroyed), a page at a time in template
 * id order, only the columns the index needs, of one model. The same rules as
 * subjectRepository.templates with matchableOnly and model.
 */
export const matchableRepository = {
  async page(ex: Executor, afterId: string, limit: number, model: string): Promise<MatchableRow[]> {
    const rows = await matchable(ex, afterId, model)
      .select(['templates.id', 'templates.subject_id', 'templates.purpose_id', 'templates.sealed', 'key_slots.slot'])
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id as TemplateId,
      subjectId: r.subject_id as SubjectId,
      purposeId: r.purpose_id as PurposeId,
      sealed: r.sealed,
      slot: Number(r.slot),
    }));
  },

  /** The same rows without the sealed templates (start-up from a snapshot reads which rows may match, not them). */
  async idPage(ex: Executor, afterId: string, limit: number, model: string): Promise<MatchableRef[]> {
    const rows = await matchable(ex, afterId, model).select(REF_COLUMNS).limit(limit).execute();
    return rows.map(toRef);
  },

  /** Whether PostgreSQL compares templates.subject_id in byte order (its collation C, POSIX or C.*, libc). */
  async byteOrdered(ex: Executor): Promise<boolean> {
    const r = await sql<{ coll: string; provider: string | null }>`
      select coalesce(nullif(c.collname, 'default'), d.datcollate) as coll,
             to_jsonb(d) ->> 'datlocprovider' as provider
      from pg_attribute a left join pg_collation c on c.oid = a.attcollation cross join pg_database d
      where a.attrelid = 'templates'::regclass and a.attname = 'subject_id' and d.datname = current_database()`.execute(
      ex,
    );
    const row = r.rows[0];
    return !!row && (row.provider === null || row.provider === 'c') && /^(C|POSIX)(\..*)?$/.test(row.coll);
  },

  /** The purposes whose templates the index holds: every one (a suspended purpose's too, see matchableOf). */
  async purposes(ex: Executor): Promise<PurposeId[]> {
    const rows = await ex.selectFrom('purposes').select('id').execute();
    return rows.map((r) => r.id as PurposeId);
  },

  /**
   * The rows of `idPage` in one purpose whose subject id lies in one of `spans` (start-up: the people
   * the change feed names, as one-id spans, and the subject ranges no loaded snapshot segment covers).
   * Ranges compare by code unit, as segments do: one query a span down the (purpose, subject) index
   * where the column's collation is that order (SQLite's default; PostgreSQL's "C", "POSIX", C.*:
   * `byteOrdered`); otherwise PostgreSQL is told "C" (byte order: code unit order for these ASCII
   * ids), all ranges in one query, which no index serves. A one-id span is an equality, which every
   * collation agrees on and the index serves.
   */
  async refsIn(
    ex: Executor,
    engine: 'sqlite' | 'postgres' | 'byte-ordered',
    model: string,
    purposeId: PurposeId,
    spans: readonly SubjectSpan[],
  ): Promise<MatchableRef[]> {
    const inPurpose = () => matchableOf(ex, model).where('templates.purpose_id', '=', purposeId);
    const out: MatchableRef[] = [];
    // One push a row: a range can hold a whole segment's people (a spread of 65,536 overflows the stack).
    const run = async (q: ReturnType<typeof inPurpose>) => {
      for (const r of await q.select(REF_COLUMNS).execute()) out.push(toRef(r));
    };
    const ranges: SubjectSpan[] = [];
    for (const g of spans) {
      if (g.from !== undefined && g.from === g.to) await run(inPurpose().where('templates.subject_id', '=', g.from));
      else if (engine !== 'postgres') {
        let q = inPurpose();
        if (g.from !== undefined) q = q.where('templates.subject_id', '>=', g.from);
        if (g.to !== undefined) q = q.where('templates.subject_id', '<=', g.to);
        await run(q);
      } else ranges.push(g);
    }
    if (ranges.length) {
      const subject = sql<string>`templates.subject_id collate "C"`;
      await run(
        inPurpose().where((eb) =>
          eb.or(
            ranges.map((g) =>
              eb.and([
                ...(g.from !== undefined ? [eb(subject, '>=', g.from)] : []),
                ...(g.to !== undefined ? [eb(subject, '<=', g.to)] : []),
              ]),
            ),
          ),
        ),
      );
    }
    return out;
  },

  /**
   * Every row of `idPage` at once, by the same rules, joined here from one sequential read of each
   * table instead of five index look-ups per template: at a million templates on SQLite the join
   * costs 32 us a template in random page reads, this about a third (start-up from a snapshot).
   */
  async allIds(ex: Executor, model: string): Promise<MatchableRef[]> {
    const active = new Set(
      (await ex.selectFrom('subjects').select('id').where('state', '=', 'active').execute()).map((r) => r.id),
    );
    const given = new Set(
      (await ex.selectFrom('consents').select('id').where('state', '=', 'given').execute()).map((r) => r.id),
    );
    const slots = new Map<string, number>();
    for (const r of await ex.selectFrom('key_slots').select(['owner_id', 'slot', 'destroyed_at']).execute())
      if (r.destroyed_at === null && active.has(r.owner_id)) slots.set(r.owner_id, Number(r.slot));
    const enrolled = new Set<string>();
    for (const r of await ex.selectFrom('enrollments').select(['subject_id', 'purpose_id', 'consent_id']).execute())
      if (slots.has(r.subject_id) && (r.consent_id === null || given.has(r.consent_id)))
        enrolled.add(`${r.subject_id} ${r.purpose_id}`);
    const out: MatchableRef[] = [];
    const rows = await ex
      .selectFrom('templates')
      .select(['id', 'subject_id', 'purpose_id'])
      .where('model', '=', model)
      .execute();
    for (const r of rows) {
      const slot = slots.get(r.subject_id);
      if (slot !== undefined && enrolled.has(`${r.subject_id} ${r.purpose_id}`))
        out.push({
          id: r.id as TemplateId,
          subjectId: r.subject_id as SubjectId,
          purposeId: r.purpose_id as PurposeId,
          slot,
        });
    }
    return out;
  },

  /** The sealed templates with these ids and of this model (the quantised index's exact re-score), whatever their state. */
  async byIds(ex: Executor, ids: readonly string[], model: string): Promise<Omit<MatchableRow, 'slot'>[]> {
    const out: Omit<MatchableRow, 'slot'>[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .selectFrom('templates')
        .select(['id', 'subject_id', 'purpose_id', 'sealed'])
        .where('id', 'in', ids.slice(i, i + 500))
        .where('model', '=', model)
        .execute();
      for (const r of rows)
        out.push({
          id: r.id as TemplateId,
          subjectId: r.subject_id as SubjectId,
          purposeId: r.purpose_id as PurposeId,
          sealed: r.sealed,
        });
    }
    return out;
  },
};

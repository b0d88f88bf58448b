import { sql } from 'kysely';
import type { Executor } from '../store/store.js';

const n = (r: { n: number | string | bigint }) => Number(r.n);

/** The read-only queries of `veil db check`. */
export const dbCheckRepository = {
  async serverVersion(ex: Executor, engine: 'sqlite' | 'postgres'): Promise<string> {
    const r =
      engine === 'postgres'
        ? await sql<{ v: string }>`select current_setting('server_version') as v`.execute(ex)
        : await sql<{ v: string }>`select sqlite_version() as v`.execute(ex);
    return r.rows[0]?.v ?? '?';
  },

  async auditEntries(ex: Executor): Promise<number> {
    return n(
      await ex
        .selectFrom('audit_entries')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow(),
    );
  },

  /** What erased subjects still have, per table: all zeros on a healthy database. */
  async leftByErased(ex: Executor): Promise<{ erased: number; left: Record<string, number> }> {
    const erased = ex.selectFrom('subjects').select('id').where('state', '=', 'erased');
    const count = async (table: 'templates' | 'consents' | 'subject_keys' | 'enrollments') =>
      n(
        await ex
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('subject_id', 'in', erased)
          .executeTakeFirstOrThrow(),
      );
    return {
      erased: n(
        await ex
          .selectFrom('subjects')
          .select((eb) => eb.fn.countAll<number>().as('n'))
          .where('state', '=', 'erased')
          .executeTakeFirstOrThrow(),
      ),
      left: {
        templates: await count('templates'),
        consents: await count('consents'),
        keys: await count('subject_keys'),
        enrollments: await count('enrollments'),
      },
    };
  },

  /** Every file path a row refers to (media, kept enrollment photos, exports). */
  async referencedFiles(ex: Executor): Promise<Set<string>> {
    const out = new Set<string>();
    for (const r of await ex.selectFrom('media').select('stored_path').execute()) out.add(r.stored_path);
    for (const r of await ex.selectFrom('templates').select('image_path').where('image_path', 'is not', null).execute())
      out.add(r.image_path!);
    for (const r of await ex.selectFrom('artifacts').select('path').where('path', 'is not', null).execute())
      out.add(r.path!);
    return out;
  },

  async changeFeed(ex: Executor): Promise<{ lo: number; hi: number; n: number }> {
    const r = await ex
      .selectFrom('index_changes')
      .select((eb) => [eb.fn.min('seq').as('lo'), eb.fn.max('seq').as('hi'), eb.fn.countAll<number>().as('n')])
      .executeTakeFirstOrThrow();
    return { lo: Number(r.lo ?? 0), hi: Number(r.hi ?? 0), n: Number(r.n) };
  },
};

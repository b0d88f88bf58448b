import type { Executor } from '../store/store.js';

export const rateLimitRepository = {
  /**
   * Counts one hit in a bucket's current window and returns the count. One statement on both
   * engines (an upsert), so concurrent processes never lose a hit.
   */
  async hit(ex: Executor, bucket: string, windowStart: string): Promise<number> {
    const r = await ex
      .insertInto('rate_limits')
      .values({ bucket, window_start: windowStart, hits: 1 })
      .onConflict((oc) =>
        oc.column('bucket').doUpdateSet((eb) => ({
          // A bucket from an older window starts again at 1.
          hits: eb
            .case()
            .when('rate_limits.window_start', '=', windowStart)
            .then(eb('rate_limits.hits', '+', 1))
            .else(1)
            .end(),
          window_start: windowStart,
        })),
      )
      .returning('hits')
      .executeTakeFirstOrThrow();
    return Number(r.hits);
  },

  /** A bucket's hits in the given window, without counting one (0 when none). */
  async count(ex: Executor, bucket: string, windowStart: string): Promise<number> {
    const r = await ex
      .selectFrom('rate_limits')
      .select('hits')
      .where('bucket', '=', bucket)
      .where('window_start', '=', windowStart)
      .executeTakeFirst();
    return r ? Number(r.hits) : 0;
  },

  async pruneBefore(ex: Executor, before: string): Promise<void> {
    await ex.deleteFrom('rate_limits').where('window_start', '<', before).execute();
  },
};

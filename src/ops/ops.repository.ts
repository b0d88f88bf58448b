import { sql } from 'kysely';
import type { Executor } from '../store/store.js';

export const opsRepository = {
  /** One round trip: is the database there? */
  async ping(ex: Executor): Promise<void> {
    await sql`select 1`.execute(ex);
  },

  /**
   * A time-limited lease on a named background job, so that of several API processes on one database
   * exactly one runs it. One atomic upsert on both engines: take the lease if it is free, expired or
   * already ours. A holder that dies simply lets it expire.
   */
  async tryLease(ex: Executor, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const at = now.toISOString();
    const until = new Date(now.getTime() + ttlMs).toISOString();
    const r = await ex
      .insertInto('job_leases')
      .values({ name, holder, expires_at: until })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ holder, expires_at: until })
          .where((eb) => eb.or([eb('job_leases.expires_at', '<', at), eb('job_leases.holder', '=', holder)])),
      )
      .returning('holder')
      .executeTakeFirst();
    return r?.holder === holder;
  },
  /**
   * Extends a lease only while it still names this holder, expired or not: once another holder has
   * taken it (and perhaps given it up since), the job it fenced has been carried on by someone else.
   */
  async renewLease(ex: Executor, name: string, holder: string, now: Date, ttlMs: number): Promise<boolean> {
    const until = new Date(now.getTime() + ttlMs).toISOString();
    const r = await ex
      .updateTable('job_leases')
      .set({ expires_at: until })
      .where('name', '=', name)
      .where('holder', '=', holder)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },
  /** Gives the lease up at once (a lease that merely expires now is still held at this instant). */
  async releaseLease(ex: Executor, name: string, holder: string): Promise<void> {
    await ex.deleteFrom('job_leases').where('name', '=', name).where('holder', '=', holder).execute();
  },
  /** Who holds the lease now (not expired), if anyone. */
  async leaseHolder(ex: Executor, name: string, now: Date): Promise<string | null> {
    const r = await ex
      .selectFrom('job_leases')
      .select('holder')
      .where('name', '=', name)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return r?.holder ?? null;
  },
  /** Whether some process holds the lease now (not expired). */
  async leaseHeld(ex: Executor, name: string, now: Date): Promise<boolean> {
    const r = await ex
      .selectFrom('job_leases')
      .select('name')
      .where('name', '=', name)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return r !== undefined;
  },
};

import { sql } from 'kysely';
import type { Executor, Store } from '../store/store.js';

/** The database's half of the keystore: which slot is whose, and the keystore's binding. */
export const keySlotRepository = {
  /** A new slot number for `owner`, from the table's counter: unique across processes, never reused. */
  async allocate(ex: Executor, owner: string, at: string): Promise<number> {
    const r = await ex
      .insertInto('key_slots')
      .values({ owner_id: owner, created_at: at, destroyed_at: null })
      .returning('slot')
      .executeTakeFirstOrThrow();
    return Number(r.slot);
  },

  /**
   * The highest slot number the counter can never hand out again. A PostgreSQL sequence never goes
   * back; SQLite's AUTOINCREMENT counter (sqlite_sequence) is rolled back with the transaction that
   * drew from it, so a number past its committed value is handed out again (infinite: no bound).
   */
  async neverReissuedTo(ex: Executor, engine: 'sqlite' | 'postgres'): Promise<number> {
    if (engine === 'postgres') return Number.POSITIVE_INFINITY;
    const r = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'key_slots'`.execute(ex);
    return Number(r.rows[0]?.seq ?? 0);
  },

  /**
   * Names an existing slot for `owner` (a key a restored database lost the row of: restore-replay.ts);
   * false when a row of the owner's is there already (one marked destroyed, or the slot another's).
   */
  async adopt(ex: Executor, owner: string, slot: number, at: string): Promise<boolean> {
    const r = await ex
      .insertInto('key_slots')
      .values({ slot, owner_id: owner, created_at: at, destroyed_at: null })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
  },

  /**
   * Moves the counter past `slot` unless it is there already. A restored database's counter is the
   * backup's, behind the slots written since: handed out again, a number would overwrite a key or
   * tombstone the keystore still holds. Only ever forward: in normal use the counter is already past
   * every slot written (a slot is allocated before its key is written), so this changes nothing.
   */
  async reserveThrough(ex: Executor, engine: 'sqlite' | 'postgres', slot: number): Promise<void> {
    if (engine === 'postgres') {
      await sql`select setval(s.seq, ${slot}) from (select pg_get_serial_sequence('key_slots', 'slot')::regclass as seq) s
        where ${slot} > coalesce(pg_sequence_last_value(s.seq), 0)`.execute(ex);
      return;
    }
    // Read first: a start that changes nothing takes no write lock.
    if (slot <= (await keySlotRepository.neverReissuedTo(ex, engine))) return;
    await sql`update sqlite_sequence set seq = ${slot} where name = 'key_slots' and seq < ${slot}`.execute(ex);
    await sql`insert into sqlite_sequence (name, seq) select 'key_slots', ${slot}
      where not exists (select 1 from sqlite_sequence where name = 'key_slots')`.execute(ex);
  },

  /** The slot of a key not destroyed. */
  async slotOf(ex: Executor, owner: string): Promise<number | undefined> {
    const r = await ex
      .selectFrom('key_slots')
      .select('slot')
      .where('owner_id', '=', owner)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    return r ? Number(r.slot) : undefined;
  },

  async slotsOf(ex: Executor, owners: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    const ids = [...new Set(owners)];
    if (ids.length > 2000) {
      // The index rebuild asks for nearly everyone: one pass over the table beats hundreds of IN lists.
      const want = new Set(ids);
      const rows = await ex
        .selectFrom('key_slots')
        .select(['owner_id', 'slot'])
        .where('destroyed_at', 'is', null)
        .execute();
      for (const r of rows) if (want.has(r.owner_id)) out.set(r.owner_id, Number(r.slot));
      return out;
    }
    for (let i = 0; i < ids.length; i += 500) {
      // destroyed_at is filtered here, not in SQL: with "destroyed_at is null" in the query SQLite
      // walks the destroyed_at index over every live key (32 ms for 20 owners among 100k keys)
      // instead of looking each owner up in the owner_id index.
      const rows = await ex
        .selectFrom('key_slots')
        .select(['owner_id', 'slot', 'destroyed_at'])
        .where('owner_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) if (r.destroyed_at === null) out.set(r.owner_id, Number(r.slot));
    }
    return out;
  },

  /** Every row, destroyed or not (start-up upkeep, restore, rotation). */
  async all(ex: Executor): Promise<{ owner: string; slot: number; destroyed: boolean }[]> {
    const rows = await ex
      .selectFrom('key_slots')
      .select(['owner_id', 'slot', 'destroyed_at'])
      .orderBy('slot')
      .execute();
    return rows.map((r) => ({ owner: r.owner_id, slot: Number(r.slot), destroyed: r.destroyed_at !== null }));
  },

  /** The slot numbers from `first` on that a row names, destroyed or not (the start-up sweep's new slots). */
  async namedFrom(ex: Executor, first: number): Promise<Set<number>> {
    const rows = await ex.selectFrom('key_slots').select('slot').where('slot', '>=', first).execute();
    return new Set(rows.map((r) => Number(r.slot)));
  },

  async count(ex: Executor): Promise<number> {
    const r = await ex
      .selectFrom('key_slots')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },

  /** Inside the destroying transaction: the key counts as gone from here on, in every process. */
  async markDestroyed(ex: Executor, owner: string, at: string): Promise<boolean> {
    const r = await ex
      .updateTable('key_slots')
      .set({ destroyed_at: at })
      .where('owner_id', '=', owner)
      .where('destroyed_at', 'is', null)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async destroyed(ex: Executor): Promise<{ owner: string; slot: number }[]> {
    const rows = await ex
      .selectFrom('key_slots')
      .select(['owner_id', 'slot'])
      .where('destroyed_at', 'is not', null)
      .execute();
    return rows.map((r) => ({ owner: r.owner_id, slot: Number(r.slot) }));
  },

  /** Once the slot holds its tombstone, nothing in the database names the owner's key any more. */
  async forget(ex: Executor, slots: readonly number[]): Promise<void> {
    for (let i = 0; i < slots.length; i += 500)
      await ex
        .deleteFrom('key_slots')
        .where('slot', 'in', slots.slice(i, i + 500))
        .where('destroyed_at', 'is not', null)
        .execute();
  },

  async state(ex: Executor, name: string): Promise<string | undefined> {
    const r = await ex.selectFrom('keystore_state').select('value').where('name', '=', name).executeTakeFirst();
    return r?.value;
  },

  /** Sets a value unless one is there (two processes starting at once agree on the first). */
  async initState(ex: Executor, name: string, value: string): Promise<void> {
    await ex
      .insertInto('keystore_state')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  },

  async setState(ex: Executor, name: string, value: string): Promise<void> {
    await ex
      .insertInto('keystore_state')
      .values({ name, value })
      .onConflict((oc) => oc.column('name').doUpdateSet({ value }))
      .execute();
  },

  async legacyCount(ex: Executor): Promise<number> {
    const r = await ex
      .selectFrom('subject_keys')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(r.n);
  },

  async legacySample(ex: Executor, limit: number): Promise<{ owner: string; wrapped: Buffer }[]> {
    const rows = await ex
      .selectFrom('subject_keys')
      .select(['subject_id', 'wrapped_key'])
      .orderBy('created_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ owner: r.subject_id, wrapped: Buffer.from(r.wrapped_key) }));
  },

  /**
   * Takes a batch of keys out of the old table: deleted and returned in the caller's transaction, so
   * two processes upgrading at once never move the same key twice.
   */
  async takeLegacy(ex: Executor, limit: number): Promise<{ owner: string; wrapped: Buffer; createdAt: string }[]> {
    const rows = await ex
      .deleteFrom('subject_keys')
      .where('subject_id', 'in', (eb) => eb.selectFrom('subject_keys').select('subject_id').limit(limit))
      .returning(['subject_id', 'wrapped_key', 'created_at'])
      .execute();
    return rows.map((r) => ({ owner: r.subject_id, wrapped: Buffer.from(r.wrapped_key), createdAt: r.created_at }));
  },

  /**
   * Rewrites what held the old wrapped keys so no freed page or dead row version keeps one, once the
   * table is empty; false when rows appeared since the last batch (an older build still writing), to
   * be moved first. SQLite: VACUUM rebuilds the file without free pages, then the WAL it went through
   * is truncated. PostgreSQL: TRUNCATE gives the table and its index new files and drops the old ones
   * at commit. Not VACUUM FULL: it copies row versions a concurrent snapshot (an autovacuum ANALYZE,
   * any other session) may still see, so deleted keys could survive it.
   */
  async scrubLegacy(store: Store): Promise<boolean> {
    if (store.engine === 'postgres')
      return store.transaction(async (tx) => {
        await sql`lock table subject_keys in access exclusive mode`.execute(tx);
        if (await keySlotRepository.legacyCount(tx)) return false;
        await sql`truncate subject_keys`.execute(tx);
        return true;
      });
    if (await keySlotRepository.legacyCount(store.db)) return false;
    await sql`vacuum`.execute(store.db);
    await store.scrub();
    return true;
  },
};

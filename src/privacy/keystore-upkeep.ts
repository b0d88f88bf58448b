import { randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import type { MasterKey } from './keys.js';
import { encodeLive, encodeTombstone, type KeystoreHeader } from './keystore-format.js';
import { Keystore } from './keystore.js';
import { KeyRing } from './keyring.js';
import { planSweep } from './orphan-sweep.js';
import { keySlotRepository as slots } from './key-slot.repository.js';

/** A live slot nobody names that is younger than this may belong to a transaction still running elsewhere. */
const ORPHAN_GRACE_S = 3600;
const BATCH = 200;
/** keystore_state: every slot up to this one is settled (see planSweep). */
const SWEPT_TO = 'orphans-swept-to';

export interface KeyRingReport {
  /** Keys moved out of the subject_keys table (first start after the upgrade). */
  readonly moved: number;
  /** Destroyed keys whose slot a crash left unwritten, now tombstones. */
  readonly finished: number;
  /** Live slots no row names (a transaction that rolled back after writing its key), now tombstones. */
  readonly orphans: number;
  /**
   * Keys no row names that a restore-journal line needs (owner to slot): a do-not-enroll entry whose
   * line was written and whose transaction never committed (a crash), or that a restored database lacks.
   */
  readonly spared: ReadonlyMap<string, number>;
}

/** What a start tells its operator about the keystore's upkeep. */
export const keyNotices = (r: KeyRingReport) =>
  r.moved ? [{ level: 'info' as const, message: `Moved ${r.moved} data keys out of the database into keys/.` }] : [];

/**
 * Opens the data directory's keystore for this database and master key, and brings it in order:
 * destroyed keys a crash left unwritten are shredded, keys still in the old subject_keys table are
 * moved into slots (then the database files are scrubbed of them), and orphan slots are tombstoned.
 */
export async function openKeyRing(d: {
  store: Store;
  master: MasterKey;
  dataDir: string;
}): Promise<{ keyring: KeyRing; report: KeyRingReport }> {
  const header = await bind(d.store, d.master, d.dataDir);
  const keyring = new KeyRing(d.master, new Keystore(d.dataDir, header));
  // Before anything here allocates a slot (the index snapshot a start writes, the restore's replay).
  await slots.reserveThrough(d.store.db, d.store.engine, await keyring.keystore.highestSlot());
  const finished = await keyring.shred(d.store);
  const moved = await adoptLegacyKeys(d.store, keyring);
  const { orphans, spared } = await sweepOrphans(d.store, keyring);
  return { keyring, report: { moved, finished, orphans, spared } };
}

/**
 * The keystore and the database must belong together: a database pointed at the wrong data
 * directory (or the reverse) would read every key as destroyed, and its upkeep would tombstone keys
 * it does not know. Each names the other by the keystore id; anything that does not match refuses
 * to start, with what to fix.
 */
async function bind(store: Store, master: MasterKey, dataDir: string): Promise<KeystoreHeader> {
  const db = store.db;
  const bound = await slots.state(db, 'keystore-id');
  const path = Keystore.pathIn(dataDir);
  if (!Keystore.exists(dataDir)) {
    const named = await slots.count(db);
    if (named)
      throw new VeilError(
        'MASTER_KEY_INVALID',
        `The database names ${named} keys held in ${path}, which does not exist. Put the data directory's keys/ back (backups never hold it); without it those people's data cannot be read.`,
      );
    const header = await Keystore.create(dataDir, {
      keystoreId: bound ?? randomBytes(16).toString('hex'),
      masterId: master.id,
    });
    return agree(store, new Keystore(dataDir, header), master);
  }
  return agree(store, new Keystore(dataDir, await Keystore.readHeader(dataDir)), master);
}

async function agree(store: Store, keystore: Keystore, master: MasterKey): Promise<KeystoreHeader> {
  const { header, path } = keystore;
  if (header.masterId !== master.id)
    throw new VeilError(
      'MASTER_KEY_INVALID',
      `${path} is wrapped under master key ${header.masterId}, not this one (${master.id}): every process needs the same VEIL_MASTER_KEY; after 'veil keys rotate-master', the new one.`,
    );
  const db = store.db;
  let bound = await slots.state(db, 'keystore-id');
  if (!bound) {
    // An unbound database with an existing keystore: fine for a database upgraded from the
    // subject_keys table (or restored from before the keystore), refused for an empty one, which is
    // what a wrong DATABASE_URL looks like.
    const live = (await keystore.readAll()).some((s) => s.state === 'live');
    if (live && !(await slots.count(db)) && !(await slots.legacyCount(db)))
      throw new VeilError(
        'MASTER_KEY_INVALID',
        `${path} holds keys, but this database knows none of them: is DATABASE_URL (or VEIL_DATA_DIR) the right one? To start over on an empty database, move the keys/ directory away first.`,
      );
    await slots.initState(db, 'keystore-id', header.keystoreId);
    bound = await slots.state(db, 'keystore-id');
  }
  if (bound !== header.keystoreId)
    throw new VeilError(
      'MASTER_KEY_INVALID',
      `${path} is keystore ${header.keystoreId}, but this database belongs with keystore ${bound}: VEIL_DATA_DIR and DATABASE_URL name different installations.`,
    );
  return header;
}

/**
 * Moves keys from the subject_keys table into the keystore, in batches, each in one transaction with
 * the slot written before it commits. A key whose owner already has a tombstone stays destroyed: a
 * database restored from before the keystore still holds the wrapped keys of people erased since.
 * Then the files that held the rows are scrubbed: once even with nothing to move (the table also held
 * keys shredded before this version, whose bytes may sit in freed pages), and again whenever rows
 * appear (a process of an older build writes there: docs/deploy.md says to stop them all first).
 */
async function adoptLegacyKeys(store: Store, keyring: KeyRing): Promise<number> {
  const done = await slots.state(store.db, 'legacy-scrubbed');
  if (done && !(await slots.legacyCount(store.db))) return 0;
  const tombstoned = new Set(
    (await keyring.keystore.readAll()).filter((s) => s.state === 'tombstone').map((s) => s.owner),
  );
  let moved = 0;
  do {
    moved += await moveLegacyKeys(store, keyring, tombstoned);
  } while (!(await slots.scrubLegacy(store)));
  await slots.setState(store.db, 'legacy-scrubbed', new Date().toISOString());
  return moved;
}

async function moveLegacyKeys(store: Store, keyring: KeyRing, tombstoned: Set<string>): Promise<number> {
  let moved = 0;
  for (;;) {
    const n = await store.transaction(async (tx) => {
      const rows = await slots.takeLegacy(tx, BATCH);
      const writes = [];
      for (const r of rows) {
        if (tombstoned.has(r.owner) || (await slots.slotOf(tx, r.owner)) !== undefined) continue;
        // Opening it first: a wrong master key fails here, and the transaction keeps the row.
        const key = keyring.master.unwrap(r.wrapped, r.owner);
        const slot = await slots.allocate(tx, r.owner, r.createdAt);
        const wrapped = keyring.master.wrapSlot(key, r.owner, slot);
        writes.push({ slot, bytes: encodeLive(slot, r.owner, wrapped, Math.floor(Date.now() / 1000)) });
      }
      await keyring.keystore.write(writes);
      moved += writes.length;
      return rows.length;
    });
    if (n < BATCH) return moved;
  }
}

/**
 * Live slots the database does not name: a key written by a transaction that then rolled back (its
 * data never committed, but PostgreSQL keeps the rolled-back rows in its files for a while), or the
 * keys of people a restored database never had. Tombstoned once older than any transaction can be,
 * unless a line of the restore journal needs it (its replay opens it).
 * Only the slots past the mark of the last sweep are read (planSweep says how far it may move): at a
 * million keys, reading every slot and every row took about 10 s of each start.
 */
async function sweepOrphans(store: Store, keyring: KeyRing): Promise<{ orphans: number; spared: Map<string, number> }> {
  const from = Number((await slots.state(store.db, SWEPT_TO)) ?? 0);
  // The keystore before the names: a key written and committed between the two reads is named.
  const tail = await keyring.keystore.readFrom(from + 1);
  const named = await slots.namedFrom(store.db, from + 1);
  const oldBefore = Math.floor(Date.now() / 1000) - ORPHAN_GRACE_S;
  let plan = planSweep(tail, named, oldBefore, from);
  const spared = new Map<string, number>();
  if (plan.orphans.length) {
    // A key a journal line still needs is not an orphan: a restored database never had its row (restore-journal.ts).
    const needed = keyring.journal.keysNeeded();
    for (const s of plan.orphans) if (needed.get(s.owner) === s.slot) spared.set(s.owner, s.slot);
    for (const slot of spared.values()) named.add(slot);
    plan = planSweep(tail, named, oldBefore, from);
  }
  await keyring.keystore.write(plan.orphans.map((s) => ({ slot: s.slot, bytes: encodeTombstone(s.slot, s.owner) })));
  // Not past a number the counter may hand out again (SQLite rolls it back with a failed transaction):
  // that slot can get a new key, which no row names if its transaction rolls back too. (A mark an
  // earlier version moved past it comes back, so those slots are read again.)
  // Nor past a spared key: until its line is applied and the key named (the start-up, or a restore's
  // replay, does it), every start looks at it again.
  const held = Math.min(...[...spared.values()].map((slot) => slot - 1));
  const to = Math.min(plan.sweptTo, held, await slots.neverReissuedTo(store.db, store.engine));
  if (to !== from) await slots.setState(store.db, SWEPT_TO, String(to));
  return { orphans: plan.orphans.length, spared };
}

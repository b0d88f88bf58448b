import type { Executor, Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import { newDataKey, type MasterKey } from './keys.js';
import { assertOwner, encodeLive, encodeTombstone, parseSlot, SLOT_BYTES, type Slot } from './keystore-format.js';
import type { Keystore } from './keystore.js';
import { keySlotRepository as slots } from './key-slot.repository.js';
import { RestoreJournal } from './restore-journal.js';

const destroyedError = (owner: string) =>
  new VeilError('KEY_DESTROYED', `The data key of ${owner} has been destroyed.`);

/** Seconds since the epoch, by the machine's clock: a slot's age on disk, not a business time. */
const nowSeconds = () => Math.floor(Date.now() / 1000);

/**
 * Data keys of owners (subjects today; any short-lived secret's id can be one), each wrapped under the
 * master key in its own keystore slot. The database records only which slot is whose. Destroying a
 * key (crypto-shredding) is marked in the caller's transaction and carried out by `shred()` once it
 * commits: the slot is overwritten with a tombstone and synced. Marking first means a transaction that
 * fails leaves the key intact, as everything else it did; a crash between commit and shred is
 * finished by the next start (keystore-upkeep.ts).
 */
export class KeyRing {
  /** Beside the keystore and, like it, never in a backup: what a restore must not undo. */
  readonly journal: RestoreJournal;

  constructor(
    readonly master: MasterKey,
    readonly keystore: Keystore,
  ) {
    this.journal = new RestoreJournal(keystore.dataDir);
  }

  /** A new key, on disk before this returns, so it exists before the transaction naming it commits. */
  async create(ex: Executor, owner: string, at: string): Promise<Buffer> {
    return (await this.createSlot(ex, owner, at)).key;
  }

  /** The same, with the slot it is in (for a record that names the key outside the database: restore-journal.ts). */
  async createSlot(ex: Executor, owner: string, at: string): Promise<{ key: Buffer; slot: number }> {
    assertOwner(owner);
    const key = newDataKey();
    const slot = await slots.allocate(ex, owner, at);
    const bytes = encodeLive(slot, owner, this.master.wrapSlot(key, owner, slot), nowSeconds());
    await this.keystore.write([{ slot, bytes }]);
    return { key, slot };
  }

  /**
   * The key a record outside the database says is the owner's in `slot`, named again in the caller's
   * transaction if the database lost its row (a restored one); null when it is destroyed or the slot
   * holds no key of the owner's.
   */
  async reclaim(ex: Executor, owner: string, slot: number, at: string): Promise<Buffer | null> {
    const named = await slots.slotOf(ex, owner);
    if (named !== undefined && named !== slot) return null;
    let key: Buffer | null;
    try {
      key = this.unwrap(await this.keystore.read(slot), owner);
    } catch {
      return null; // a slot that does not open (damaged) is as lost as a destroyed one
    }
    // A row marked destroyed (its tombstone not yet written) keeps the key destroyed: adopt names none then.
    return key && (named !== undefined || (await slots.adopt(ex, owner, slot, at))) ? key : null;
  }

  async get(ex: Executor, owner: string): Promise<Buffer> {
    const slot = await slots.slotOf(ex, owner);
    if (slot === undefined) throw destroyedError(owner);
    const key = this.unwrap(await this.keystore.read(slot), owner);
    if (!key) throw destroyedError(owner);
    return key;
  }

  /** Many keys with one query and, when they are many, one read of the keystore; destroyed keys are absent. */
  async getMany<O extends string>(ex: Executor, owners: readonly O[]): Promise<Map<O, Buffer>> {
    const bySlot = await slots.slotsOf(ex, owners);
    const read = await this.keystore.readMany([...bySlot.values()]);
    const out = new Map<O, Buffer>();
    for (const [owner, slot] of bySlot) {
      const key = this.unwrap(read.get(slot)!, owner);
      if (key) out.set(owner as O, key);
    }
    return out;
  }

  /**
   * For reading nearly every key (the index rebuild at start): the keystore file is read once, and a
   * key is unwrapped from that image by the slot the database names for it. A slot not live for its
   * owner in the image (a key created since) is read again on its own; a destroyed key is null.
   */
  async bulkReader(): Promise<(owner: string, slot: number) => Promise<Buffer | null>> {
    const wrappedOf = await this.bulkWrapped();
    return async (owner, slot) => {
      const wrapped = await wrappedOf(owner, slot);
      return wrapped && this.master.unwrapSlot(wrapped, owner, slot);
    };
  }

  /**
   * The same reads, giving the wrapped key (for unwrapping on the start-up decryption workers, which
   * hold a copy of the master key): null when the slot is not the owner's live key.
   */
  async bulkWrapped(): Promise<(owner: string, slot: number) => Promise<Buffer | null>> {
    const image = await this.keystore.image();
    const live = (s: Slot | null, owner: string) =>
      s && s.state === 'live' && s.owner === owner && s.wrapped ? s.wrapped : null;
    return async (owner, slot) => {
      const at = slot * SLOT_BYTES;
      const s = at + SLOT_BYTES <= image.length ? parseSlot(image.subarray(at, at + SLOT_BYTES), slot) : null;
      return live(s, owner) ?? live(await this.keystore.read(slot), owner);
    };
  }

  async getOrCreate(ex: Executor, owner: string, at: string): Promise<Buffer> {
    return (await slots.slotOf(ex, owner)) === undefined ? this.create(ex, owner, at) : this.get(ex, owner);
  }

  /**
   * Marks the key destroyed in the caller's transaction (every process stops using it once that
   * commits); `shred()` after the commit overwrites the slot. Returns whether there was a key.
   */
  async destroy(ex: Executor, owner: string): Promise<boolean> {
    return slots.markDestroyed(ex, owner, new Date().toISOString());
  }

  /**
   * Overwrites the slot of every key marked destroyed with its tombstone, syncs the file, then drops
   * the rows. Safe to call from any process at any time: a tombstone written twice is the same bytes.
   */
  async shred(store: Store): Promise<number> {
    const gone = await slots.destroyed(store.db);
    if (!gone.length) return 0;
    await this.keystore.write(gone.map((g) => ({ slot: g.slot, bytes: encodeTombstone(g.slot, g.owner) })));
    await slots.forget(
      store.db,
      gone.map((g) => g.slot),
    );
    return gone.length;
  }

  /** The key in a slot if it is the owner's live key under this master key; null for anything else. */
  private unwrap(s: Slot, owner: string): Buffer | null {
    if (s.state !== 'live' || s.owner !== owner || !s.wrapped) return null;
    return this.master.unwrapSlot(s.wrapped, owner, s.slot);
  }
}

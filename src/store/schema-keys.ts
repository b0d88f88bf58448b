import type { Generated } from 'kysely';

/**
 * Which keystore slot holds which owner's data key (migration 9). The key itself is never in the
 * database: it lives wrapped in <dataDir>/keys/subject-keys.slots, where destroying it is an
 * overwrite in place. Slot numbers come from this table's counter, so processes sharing one database
 * never write the same slot, and a number is never handed out twice.
 */
export interface KeySlotsTable {
  slot: Generated<number>;
  /** A subject id today; any short-lived secret's id later. */
  owner_id: string;
  created_at: string;
  /** Set in the transaction that destroys the key; the slot is overwritten once it commits, then the row goes. */
  destroyed_at: string | null;
}

/** Facts about the keystore the database must agree on: 'keystore-id' (which file), 'legacy-scrubbed'. */
export interface KeystoreStateTable {
  name: string;
  value: string;
}

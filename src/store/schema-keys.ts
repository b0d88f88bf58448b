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

/** A sealed segment of the index snapshot (migration 16); its key is the slot owned by `idxseg:<id>`. */
export interface IndexSegmentsTable {
  id: string;
  model: string;
  purpose_id: string;
  /** The lowest and highest subject id of its rows (compared in code, not by the database's collation). */
  subject_lo: string;
  subject_hi: string;
  templates: number;
  created_at: string;
  /** The change-feed position its rows are current at (migration 17); null: unknown. */
  feed_seq: number | null;
}

// Key-material configuration problems share MASTER_KEY_INVALID: the error codes are a closed list
// mapped to HTTP statuses in src/api/problem.ts, and every one of them is an operator fix at start.
import { VeilError } from '../errors.js';

/**
 * The byte layout of the keystore file (<dataDir>/keys/subject-keys.slots): fixed-size slots, so
 * a key is destroyed by overwriting its own 128 bytes in place, and slot N sits at N * 128.
 *
 * Slot 0 is the header:
 *   0   8  magic "VEILKEYS"
 *   8   1  format version (1)
 *   9   1  slot size / 16 (8)
 *   10  6  reserved, zero
 *   16  16 keystore id: binds this file to its database (keystore_state 'keystore-id')
 *   32  16 master key id: which master key wraps the slots (a wrong VEIL_MASTER_KEY fails at start)
 *   48  80 reserved, zero
 *
 * Slots 1..N (allocated by the database, never reused):
 *   0   4  magic "VSLT"
 *   4   1  format version (1)
 *   5   1  state: 1 live, 2 tombstone (all zeros: never written)
 *   6   2  reserved, zero
 *   8   4  slot number (u32 BE), so a slot copied elsewhere is detected
 *   12  4  created, seconds since the epoch (u32 BE): the start-up sweep leaves young orphans alone
 *   16  48 owner id, ASCII, zero-padded
 *   64  60 live: AES-256-GCM(master, data key), nonce 12 + ciphertext 32 + tag 16, with AAD
 *          "veil.keystore.v1:<owner>:<slot>"; tombstone: zeros
 *   124 4  reserved, zero
 * A tombstone keeps the owner: it is the durable record of who was erased, which a restore replays.
 */
export const SLOT_BYTES = 128;
export const OWNER_BYTES = 48;
export const WRAPPED_BYTES = 60;
const VERSION = 1;
const HEADER_MAGIC = Buffer.from('VEILKEYS', 'ascii');
const SLOT_MAGIC = Buffer.from('VSLT', 'ascii');
const OWNER_AT = 16;
const WRAPPED_AT = 64;
const OWNER = /^[A-Za-z0-9_.:-]{1,48}$/;

export type SlotState = 'live' | 'tombstone' | 'empty';

export interface KeystoreHeader {
  /** 32 hex digits. */
  readonly keystoreId: string;
  /** 32 hex digits: MasterKey.id of the key that wraps every live slot. */
  readonly masterId: string;
}

export interface Slot {
  readonly slot: number;
  readonly state: SlotState;
  readonly owner: string;
  readonly createdAt: number;
  /** Live slots only. */
  readonly wrapped: Buffer | null;
}

export function assertOwner(owner: string): void {
  if (!OWNER.test(owner))
    throw new VeilError('INVALID_INPUT', `A key owner is 1-48 characters of [A-Za-z0-9_.:-], not '${owner}'.`);
}

export function slotAad(owner: string, slot: number): string {
  return `veil.keystore.v1:${owner}:${slot}`;
}

export function encodeHeader(h: KeystoreHeader): Buffer {
  const b = Buffer.alloc(SLOT_BYTES);
  HEADER_MAGIC.copy(b, 0);
  b[8] = VERSION;
  b[9] = SLOT_BYTES / 16;
  Buffer.from(h.keystoreId, 'hex').copy(b, 16);
  Buffer.from(h.masterId, 'hex').copy(b, 32);
  return b;
}

export function parseHeader(b: Buffer, where: string): KeystoreHeader {
  if (b.length < SLOT_BYTES || !b.subarray(0, 8).equals(HEADER_MAGIC))
    throw new VeilError('MASTER_KEY_INVALID', `${where} is not a Veil keystore.`);
  if (b[8] !== VERSION || b[9] !== SLOT_BYTES / 16)
    throw new VeilError('MASTER_KEY_INVALID', `${where} has keystore format ${b[8]}, which this Veil does not read.`);
  return { keystoreId: b.subarray(16, 32).toString('hex'), masterId: b.subarray(32, 48).toString('hex') };
}

function base(slot: number, state: 1 | 2, owner: string, createdAt: number): Buffer {
  assertOwner(owner);
  const b = Buffer.alloc(SLOT_BYTES);
  SLOT_MAGIC.copy(b, 0);
  b[4] = VERSION;
  b[5] = state;
  b.writeUInt32BE(slot, 8);
  b.writeUInt32BE(createdAt >>> 0, 12);
  b.write(owner, OWNER_AT, OWNER_BYTES, 'ascii');
  return b;
}

export function encodeLive(slot: number, owner: string, wrapped: Buffer, createdAt: number): Buffer {
  if (wrapped.length !== WRAPPED_BYTES) throw new Error(`a wrapped key is ${WRAPPED_BYTES} bytes`);
  const b = base(slot, 1, owner, createdAt);
  wrapped.copy(b, WRAPPED_AT);
  return b;
}

/** Magic and owner, no key material: what destroying a key leaves. */
export function encodeTombstone(slot: number, owner: string): Buffer {
  return base(slot, 2, owner, 0);
}

/**
 * Reads slot `slot` from `b` (exactly its 128 bytes, or fewer past the end of the file). Anything
 * that is neither a well-formed live slot nor a tombstone for this slot number reads as empty.
 */
export function parseSlot(b: Buffer, slot: number): Slot {
  const empty: Slot = { slot, state: 'empty', owner: '', createdAt: 0, wrapped: null };
  if (b.length < SLOT_BYTES || !b.subarray(0, 4).equals(SLOT_MAGIC) || b[4] !== VERSION) return empty;
  if (b.readUInt32BE(8) !== slot) return empty;
  const raw = b.subarray(OWNER_AT, OWNER_AT + OWNER_BYTES);
  const end = raw.indexOf(0);
  const owner = raw.subarray(0, end < 0 ? OWNER_BYTES : end).toString('ascii');
  if (!OWNER.test(owner)) return empty;
  const createdAt = b.readUInt32BE(12);
  if (b[5] === 2) return { slot, state: 'tombstone', owner, createdAt, wrapped: null };
  if (b[5] !== 1) return empty;
  return {
    slot,
    state: 'live',
    owner,
    createdAt,
    wrapped: Buffer.from(b.subarray(WRAPPED_AT, WRAPPED_AT + WRAPPED_BYTES)),
  };
}

import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VeilError } from '../errors.js';
import { parseHeader, slotAad, SLOT_BYTES } from './keystore-format.js';
import { replaceAndScrub } from './secret-files.js';

/**
 * Envelope encryption for biometric data. Each subject has a random 256-bit data key; it is stored
 * only wrapped (AES-256-GCM) under the master key, in a slot of the keystore file outside the
 * database (src/privacy/keystore.ts). Templates, kept photos and contact details are encrypted with
 * the subject's data key, so overwriting that one slot (crypto-shredding) makes every copy of them
 * unreadable: database pages, WAL, dead PostgreSQL row versions and backups included.
 */
export const KEY_BYTES = 32;
const NONCE = 12;
const TAG = 16;
/** Bytes a sealed blob adds to its plaintext (nonce and tag). */
export const SEAL_OVERHEAD = NONCE + TAG;

export function seal(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

/**
 * `seal` for large plaintexts, in steps that give the event loop back between them (a 38 MB
 * snapshot segment takes about half a second): the same bytes `open` reads. `between` runs between
 * steps (default: one turn of the event loop; a snapshot write waits there for changes in flight).
 */
export async function sealInSteps(
  key: Buffer,
  plaintext: Uint8Array,
  aad: string,
  step = 1 << 22,
  between: () => Promise<void> = () => new Promise((r) => setImmediate(r)),
): Promise<Buffer> {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const out = Buffer.allocUnsafe(NONCE + plaintext.length + TAG);
  nonce.copy(out, 0);
  let o = NONCE;
  for (let at = 0; at < plaintext.length; at += step) {
    o += c.update(plaintext.subarray(at, at + step)).copy(out, o);
    await between();
  }
  o += c.final().copy(out, o);
  c.getAuthTag().copy(out, o);
  return out;
}

export function open(key: Buffer, sealed: Uint8Array, aad: string): Buffer {
  const b = Buffer.from(sealed);
  if (b.length < NONCE + TAG) throw new VeilError('KEY_DESTROYED', 'Sealed data is truncated.');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, NONCE));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(b.subarray(b.length - TAG));
  try {
    // GCM's final() yields no bytes: the plaintext is update()'s output, not copied again.
    const plain = d.update(b.subarray(NONCE, b.length - TAG));
    const rest = d.final();
    return rest.length ? Buffer.concat([plain, rest]) : plain;
  } catch {
    throw new VeilError('KEY_DESTROYED', 'Sealed data cannot be decrypted with this key.');
  }
}

/** Where the keystore lives in a data directory, and the master key a rotation is moving to. */
export const KEYSTORE_FILE = join('keys', 'subject-keys.slots');
export const NEXT_MASTER_FILE = 'master.key.next';

export class MasterKey {
  private constructor(private readonly key: Buffer) {}

  /**
   * A public fingerprint (32 hex digits) naming this key in the keystore header, the audit log and
   * messages: an HMAC, so it says nothing about the key.
   */
  get id(): string {
    return createHmac('sha256', this.key).update('veil.master.id').digest('hex').slice(0, 32);
  }

  static fromBytes(key: Buffer): MasterKey {
    if (key.length !== KEY_BYTES)
      throw new VeilError('MASTER_KEY_INVALID', `The master key must be ${KEY_BYTES} bytes.`);
    return new MasterKey(Buffer.from(key));
  }

  /**
   * VEIL_MASTER_KEY (64 hex digits or base64 of 32 bytes), else <dataDir>/master.key, generated
   * on first start with mode 0600. `generated` tells the caller to warn loudly.
   */
  static load(dataDir: string, v: string | undefined): { master: MasterKey; generated: boolean } {
    if (v) return { master: MasterKey.parse(v), generated: false };
    const path = join(dataDir, 'master.key');
    finishInterruptedRotation(dataDir);
    if (existsSync(path)) return { master: MasterKey.readFile(path), generated: false };
    // Keys wrapped under a master key that is not here: a new one would open none of them.
    if (existsSync(join(dataDir, KEYSTORE_FILE)))
      throw new VeilError(
        'MASTER_KEY_INVALID',
        `${join(dataDir, KEYSTORE_FILE)} holds data keys but there is no master key: set VEIL_MASTER_KEY, or put master.key back.`,
      );
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    return { master: new MasterKey(key), generated: true };
  }

  /** A VEIL_MASTER_KEY value: 64 hex digits, else base64 of 32 bytes. */
  static parse(v: string): MasterKey {
    const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
    if (bytes.length !== KEY_BYTES)
      throw new VeilError('MASTER_KEY_INVALID', 'VEIL_MASTER_KEY must be 32 bytes as 64 hex digits or base64.');
    return new MasterKey(bytes);
  }

  static readFile(path: string): MasterKey {
    const bytes = Buffer.from(readFileSync(path, 'utf8').trim(), 'hex');
    if (bytes.length !== KEY_BYTES)
      throw new VeilError('MASTER_KEY_INVALID', `${path} must hold ${KEY_BYTES} bytes as 64 hex digits.`);
    return new MasterKey(bytes);
  }

  /** A copy of the key for the start-up decryption workers (template-decrypt.ts), which zero it once imported. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.key);
  }

  /** The hex form written to master.key; only the rotation writes a key out. */
  toHex(): string {
    return this.key.toString('hex');
  }

  /** A data key for keystore slot `slot` of `owner`: the AAD binds both, so a slot moved elsewhere does not open. */
  wrapSlot(dataKey: Buffer, owner: string, slot: number): Buffer {
    return seal(this.key, dataKey, slotAad(owner, slot));
  }

  unwrapSlot(wrapped: Uint8Array, owner: string, slot: number): Buffer {
    return open(this.key, wrapped, slotAad(owner, slot));
  }

  /** The wrapping of the subject_keys table before the keystore: read once, when moving those keys out. */
  unwrap(wrapped: Uint8Array, owner: string): Buffer {
    return open(this.key, wrapped, `veil.data-key:${owner}`);
  }

  /** A purpose-separated key derived from the master key (media files, suppression list, contact lookup). */
  derive(label: string): Buffer {
    return createHmac('sha256', this.key).update(`veil.derive:${label}`).digest();
  }
}

/**
 * A rotation that generated its key writes it to master.key.next first and rewraps the keystore last:
 * rewrapping is the point of no return. If it stopped after that, the keystore names the next key,
 * and master.key is brought in line here before anything opens the keystore. Before that point
 * nothing is done: the rotation is re-run (docs/security.md).
 */
function finishInterruptedRotation(dataDir: string): void {
  const next = join(dataDir, NEXT_MASTER_FILE);
  const keystore = join(dataDir, KEYSTORE_FILE);
  if (!existsSync(next) || !existsSync(keystore)) return;
  const head = Buffer.alloc(SLOT_BYTES);
  const fd = openSync(keystore, 'r');
  try {
    readSync(fd, head, 0, SLOT_BYTES, 0);
  } finally {
    closeSync(fd);
  }
  if (parseHeader(head, keystore).masterId === MasterKey.readFile(next).id)
    replaceAndScrub(next, join(dataDir, 'master.key'));
}

export function newDataKey(): Buffer {
  return randomBytes(KEY_BYTES);
}

/** Templates travel as little-endian float32 bytes inside the sealed blob. */
export function vectorBytes(v: Float32Array): Buffer {
  return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
}

export function bytesVector(b: Buffer): Float32Array {
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return new Float32Array(copy.buffer);
}

/** A keyed hash of contact data, so requests can be correlated without storing the address in clear. */
export function contactHash(master: MasterKey, email: string): string {
  return createHmac('sha256', master.derive('contact')).update(email.trim().toLowerCase()).digest('hex');
}

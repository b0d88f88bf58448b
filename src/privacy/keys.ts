import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VeilError } from '../errors.js';

/**
 * Envelope encryption for biometric data. Each subject has a random 256-bit data key; it is stored
 * only wrapped (AES-256-GCM) under the master key. Templates, kept photos and contact details are
 * encrypted with the subject's data key, so destroying that one wrapped key (crypto-shredding) makes
 * every copy of them unreadable, old backups included.
 */
export const KEY_BYTES = 32;
const NONCE = 12;
const TAG = 16;

export function seal(key: Buffer, plaintext: Uint8Array, aad: string): Buffer {
  const nonce = randomBytes(NONCE);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([c.update(plaintext), c.final()]);
  return Buffer.concat([nonce, body, c.getAuthTag()]);
}

export function open(key: Buffer, sealed: Uint8Array, aad: string): Buffer {
  const b = Buffer.from(sealed);
  if (b.length < NONCE + TAG) throw new VeilError('KEY_DESTROYED', 'Sealed data is truncated.');
  const d = createDecipheriv('aes-256-gcm', key, b.subarray(0, NONCE));
  d.setAAD(Buffer.from(aad, 'utf8'));
  d.setAuthTag(b.subarray(b.length - TAG));
  try {
    return Buffer.concat([d.update(b.subarray(NONCE, b.length - TAG)), d.final()]);
  } catch {
    throw new VeilError('KEY_DESTROYED', 'Sealed data cannot be decrypted with this key.');
  }
}

export class MasterKey {
  private constructor(private readonly key: Buffer) {}

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
    if (v) {
      const bytes = /^[0-9a-fA-F]{64}$/.test(v) ? Buffer.from(v, 'hex') : Buffer.from(v, 'base64');
      if (bytes.length !== KEY_BYTES)
        throw new VeilError('MASTER_KEY_INVALID', 'VEIL_MASTER_KEY must be 32 bytes as 64 hex digits or base64.');
      return { master: new MasterKey(bytes), generated: false };
    }
    const path = join(dataDir, 'master.key');
    if (existsSync(path))
      return { master: MasterKey.fromBytes(Buffer.from(readFileSync(path, 'utf8').trim(), 'hex')), generated: false };
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const key = randomBytes(KEY_BYTES);
    writeFileSync(path, key.toString('hex') + '\n', { mode: 0o600 });
    chmodSync(path, 0o600);
    return { master: new MasterKey(key), generated: true };
  }

  wrap(dataKey: Buffer, owner: string): Buffer {
    return seal(this.key, dataKey, `veil.data-key:${owner}`);
  }

  unwrap(wrapped: Uint8Array, owner: string): Buffer {
    return open(this.key, wrapped, `veil.data-key:${owner}`);
  }

  /** A purpose-separated key derived from the master key (media files, suppression list, contact lookup). */
  derive(label: string): Buffer {
    return createHmac('sha256', this.key).update(`veil.derive:${label}`).digest();
  }
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

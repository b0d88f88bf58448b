import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import type { MasterKey } from './keys.js';
import { open, seal } from './keys.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/**
 * The secrets of rights requests, each made and checked in one place: the six-digit codes emailed
 * to prove an address, the download tokens that prove a requester passed verification, and the
 * requester's address itself, sealed so it is read only to write to them.
 */
export class ContactSecrets {
  private readonly key: Buffer;

  constructor(master: MasterKey) {
    this.key = master.derive('rights');
  }

  /** A fresh six-digit code and the hash stored for it (bound to its request or enrollment id). */
  newCode(ownerId: string): { code: string; hash: string } {
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    return { code, hash: this.codeHash(ownerId, code) };
  }

  codeMatches(ownerId: string, code: string, storedHash: string | null): boolean {
    if (!storedHash || !/^\d{6}$/.test(code)) return false;
    return sameHex(this.codeHash(ownerId, code), storedHash);
  }

  private codeHash(ownerId: string, code: string): string {
    return createHash('sha256').update(this.key).update(`${ownerId}:${code}`).digest('hex');
  }

  /** A download token: shown once to the verified requester; only its hash is kept. */
  newToken(): { token: string; hash: string } {
    const token = randomBytes(24).toString('base64url');
    return { token, hash: sha(token) };
  }

  tokenMatches(token: string | undefined, storedHash: string | null): boolean {
    return Boolean(token && storedHash && sameHex(sha(token), storedHash));
  }

  sealContact(ownerId: string, email: string): Buffer {
    return seal(this.key, Buffer.from(email.trim()), `veil.request-contact:${ownerId}`);
  }

  openContact(ownerId: string, sealed: Buffer): string {
    return open(this.key, sealed, `veil.request-contact:${ownerId}`).toString('utf8');
  }

  /** Sealed under the rights key: a selfie template or DPO instructions kept with a request. */
  seal(ownerId: string, label: string, bytes: Uint8Array): Buffer {
    return seal(this.key, bytes, `veil.request-${label}:${ownerId}`);
  }

  open(ownerId: string, label: string, sealed: Buffer): Buffer {
    return open(this.key, sealed, `veil.request-${label}:${ownerId}`);
  }
}

function sameHex(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

import { createCipheriv, createDecipheriv } from 'node:crypto';

/**
 * The attacker's blind scan: every 60-byte window of a file read as nonce (12) | ciphertext (32) |
 * tag (16) and tried as an AES-256-GCM wrapping of a 32-byte key under one key and a set of AADs.
 * node:crypto needs about 8 µs per attempt (a decipher object each), too slow for every offset of a
 * data directory, so the tag check is done in bulk, exactly as GCM defines it:
 *
 *   T = E_K(J0) ^ GHASH_H(A | C1 | C2 | len) = E_K(J0) ^ K0(A) ^ C1·H³ ^ C2·H²
 *
 * with J0 = nonce | 0x00000001, K0(A) = GHASH_H(A)·H³ ^ len·H depending on the AAD only. E_K(J0) for
 * all offsets is one AES-ECB call; C·H³ and C·H² are 16 table lookups each (multiplication by a fixed
 * element of GF(2^128) is linear). A window matches when T ^ E_K(J0) ^ C1·H³ ^ C2·H² is some K0(A).
 * Every match is confirmed with node:crypto, and the self-test below checks the scanner against it.
 */

const R = 0xe1n << 120n;
const MASK = (1n << 128n) - 1n;

function toBig(b: Uint8Array): bigint {
  let x = 0n;
  for (const v of b) x = (x << 8n) | BigInt(v);
  return x;
}

/** GF(2^128) product in GCM's bit order (SP 800-38D, Algorithm 1). */
function gmul(x: bigint, y: bigint): bigint {
  let z = 0n;
  let v = y;
  for (let i = 127; i >= 0; i--) {
    if ((x >> BigInt(i)) & 1n) z ^= v;
    v = v & 1n ? (v >> 1n) ^ R : v >> 1n;
  }
  return z & MASK;
}

function ghash(h: bigint, data: Buffer): bigint {
  let y = 0n;
  for (let i = 0; i < data.length; i += 16) {
    const block = Buffer.alloc(16);
    data.copy(block, 0, i, Math.min(i + 16, data.length));
    y = gmul(y ^ toBig(block), h);
  }
  return y;
}

/** 16 x 256 entries of 4 words: the product of (byte b at position j) with m. */
function table(m: bigint): Uint32Array {
  const t = new Uint32Array(16 * 256 * 4);
  for (let j = 0; j < 16; j++) {
    const bits: bigint[] = [];
    for (let k = 0; k < 8; k++) bits.push(gmul(BigInt(1 << k) << BigInt(8 * (15 - j)), m));
    for (let b = 0; b < 256; b++) {
      let v = 0n;
      for (let k = 0; k < 8; k++) if (b & (1 << k)) v ^= bits[k]!;
      for (let w = 0; w < 4; w++) t[(j * 256 + b) * 4 + w] = Number((v >> BigInt(32 * (3 - w))) & 0xffffffffn);
    }
  }
  return t;
}

const words = (x: bigint) => [0, 1, 2, 3].map((w) => Number((x >> BigInt(32 * (3 - w))) & 0xffffffffn));

export interface Hit {
  readonly offset: number;
  readonly aad: string;
  readonly plaintext: Buffer;
}

export class GcmWindowScanner {
  private readonly t3: Uint32Array;
  private readonly t2: Uint32Array;
  private readonly k0 = new Map<number, { w: number[]; aad: string }[]>();

  constructor(
    private readonly key: Buffer,
    aads: readonly string[],
  ) {
    const ecb = createCipheriv('aes-256-ecb', key, null).setAutoPadding(false);
    const h = toBig(ecb.update(Buffer.alloc(16)));
    const h2 = gmul(h, h);
    this.t3 = table(gmul(h2, h));
    this.t2 = table(h2);
    for (const aad of new Set(aads)) {
      const a = Buffer.from(aad, 'utf8');
      const len = (BigInt(a.length * 8) << 64n) | 256n;
      const k0 = gmul(ghash(h, a), gmul(h2, h)) ^ gmul(len, h);
      const w = words(k0);
      const list = this.k0.get(w[0]!) ?? [];
      list.push({ w, aad });
      this.k0.set(w[0]!, list);
    }
  }

  /** Every offset of `buf` where a 60-byte window opens under the key with one of the AADs. */
  scan(buf: Buffer): Hit[] {
    const hits: Hit[] = [];
    const n = buf.length - 59;
    const CHUNK = 1 << 16;
    for (let start = 0; start < n; start += CHUNK) {
      const count = Math.min(CHUNK, n - start);
      const j0 = Buffer.alloc(count * 16);
      for (let i = 0; i < count; i++) {
        const o = start + i;
        const p = i * 16;
        for (let k = 0; k < 12; k++) j0[p + k] = buf[o + k]!;
        j0[p + 15] = 1;
      }
      const ek = createCipheriv('aes-256-ecb', this.key, null).setAutoPadding(false).update(j0);
      const u32 = (x: Buffer, at: number) =>
        ((x[at]! << 24) | (x[at + 1]! << 16) | (x[at + 2]! << 8) | x[at + 3]!) >>> 0;
      for (let i = 0; i < count; i++) {
        const o = start + i;
        let a = u32(ek, i * 16) ^ u32(buf, o + 44);
        let b = u32(ek, i * 16 + 4) ^ u32(buf, o + 48);
        let c = u32(ek, i * 16 + 8) ^ u32(buf, o + 52);
        let d = u32(ek, i * 16 + 12) ^ u32(buf, o + 56);
        for (let j = 0; j < 16; j++) {
          const p = (j * 256 + buf[o + 12 + j]!) * 4;
          const q = (j * 256 + buf[o + 28 + j]!) * 4;
          a ^= this.t3[p]! ^ this.t2[q]!;
          b ^= this.t3[p + 1]! ^ this.t2[q + 1]!;
          c ^= this.t3[p + 2]! ^ this.t2[q + 2]!;
          d ^= this.t3[p + 3]! ^ this.t2[q + 3]!;
        }
        const list = this.k0.get(a >>> 0);
        if (!list) continue;
        for (const k of list)
          if (k.w[1] === b >>> 0 && k.w[2] === c >>> 0 && k.w[3] === d >>> 0) {
            const plaintext = openWindow(this.key, buf.subarray(o, o + 60), k.aad);
            if (plaintext) hits.push({ offset: o, aad: k.aad, plaintext });
          }
      }
    }
    return hits;
  }
}

/** node:crypto's verdict on one window: the plaintext, or null. */
export function openWindow(key: Buffer, w: Buffer, aad: string): Buffer | null {
  try {
    const d = createDecipheriv('aes-256-gcm', key, w.subarray(0, 12));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(w.subarray(44, 60));
    return Buffer.concat([d.update(w.subarray(12, 44)), d.final()]);
  } catch {
    return null;
  }
}

import { createHash, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical.js';

/** A signed tree head: the log's size and Merkle root at a moment, signed with Ed25519. */
export interface TreeHead {
  readonly size: number;
  /** Hex SHA-256 Merkle tree hash of the first `size` entries. */
  readonly rootHash: string;
  readonly timestamp: string;
  readonly keyId: string;
  /** Set only on a rotation head: the old key names its successor, and that is what vouches for it. */
  readonly nextKeyId?: string;
  /** Base64 Ed25519 signature over headMessage(). */
  readonly signature: string;
}

export type UnsignedHead = Omit<TreeHead, 'signature'>;

/** The exact bytes signed: a typed, canonical JSON object, so a head cannot be mistaken for anything else. */
export function headMessage(h: UnsignedHead): Buffer {
  const body: Record<string, string | number> = {
    type: 'veil.tree-head.v1',
    size: h.size,
    rootHash: h.rootHash,
    timestamp: h.timestamp,
    keyId: h.keyId,
  };
  if (h.nextKeyId) body['nextKeyId'] = h.nextKeyId;
  return Buffer.from(canonicalJson(body), 'utf8');
}

/** Key id: the first 16 hex digits of SHA-256 over the public key's SPKI DER encoding. */
export function keyIdOf(publicKey: KeyObject | string): string {
  const k = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return createHash('sha256')
    .update(k.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16);
}

export function signHead(h: UnsignedHead, privateKey: KeyObject): TreeHead {
  return { ...h, signature: sign(null, headMessage(h), privateKey).toString('base64') };
}

export function verifyHeadSignature(h: TreeHead, publicKey: KeyObject | string): boolean {
  try {
    const k = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
    return verify(null, headMessage(h), k, Buffer.from(h.signature, 'base64'));
  } catch {
    return false;
  }
}

import { createHash, timingSafeEqual } from 'node:crypto';
import { VeilError } from '../errors.js';

/**
 * Merkle tree hashing, inclusion and consistency proofs as in Certificate Transparency
 * (RFC 6962 s2.1; verification as in RFC 9162 s2.1.3-2.1.4). Pure functions: trees are addressed
 * through a `NodeReader` that returns the hash of a perfect subtree, so the same code serves an
 * in-memory tree and the store's node table.
 */

export const LEAF_PREFIX = 0x00;
export const NODE_PREFIX = 0x01;
export const HASH_SIZE = 32;

export function leafHash(data: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(LEAF_PREFIX)).update(data).digest();
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return createHash('sha256').update(Buffer.of(NODE_PREFIX)).update(left).update(right).digest();
}

export const EMPTY_ROOT = createHash('sha256').digest();

/** A perfect subtree: 2^level leaves starting at leaf index * 2^level. */
export interface NodeId {
  readonly level: number;
  readonly index: number;
}

export type NodeReader = (ids: readonly NodeId[]) => Promise<Buffer[]> | Buffer[];

/** Largest power of two strictly smaller than n (n >= 2). */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** Decomposes the leaf range [start, start + size) into perfect subtrees, left to right. */
export function perfectSubtrees(start: number, size: number): NodeId[] {
  const out: NodeId[] = [];
  let s = start;
  let remaining = size;
  while (remaining > 0) {
    // The largest aligned power of two that fits at s.
    let level = 0;
    while (s % 2 ** (level + 1) === 0 && 2 ** (level + 1) <= remaining) level++;
    out.push({ level, index: s / 2 ** level });
    s += 2 ** level;
    remaining -= 2 ** level;
  }
  return out;
}

/** Folds the perfect subtrees of a range into the range's Merkle tree hash (right to left). */
export function foldRange(hashes: readonly Buffer[]): Buffer {
  if (!hashes.length) return EMPTY_ROOT;
  let acc = hashes[hashes.length - 1]!;
  for (let i = hashes.length - 2; i >= 0; i--) acc = nodeHash(hashes[i]!, acc);
  return acc;
}

/** The ranges (start, size) whose hashes make up PATH(m, D[start:start+n]), leaf-side first. */
export function inclusionRanges(m: number, n: number, start = 0): [number, number][] {
  if (n <= 1) return [];
  const k = splitPoint(n);
  return m < k
    ? [...inclusionRanges(m, k, start), [start + k, n - k]]
    : [...inclusionRanges(m - k, n - k, start + k), [start, k]];
}

/** The ranges whose hashes make up PROOF(m, D[n]) (RFC 6962 s2.1.2 SUBPROOF). */
export function consistencyRanges(m: number, n: number): [number, number][] {
  const sub = (mm: number, nn: number, start: number, b: boolean): [number, number][] => {
    if (mm === nn) return b ? [] : [[start, nn]];
    const k = splitPoint(nn);
    return mm <= k
      ? [...sub(mm, k, start, b), [start + k, nn - k]]
      : [...sub(mm - k, nn - k, start + k, false), [start, k]];
  };
  return sub(m, n, 0, true);
}

async function rangeHashes(ranges: readonly [number, number][], read: NodeReader): Promise<Buffer[]> {
  const parts = ranges.map(([s, n]) => perfectSubtrees(s, n));
  const flat = await read(parts.flat());
  const out: Buffer[] = [];
  let i = 0;
  for (const p of parts) {
    out.push(foldRange(flat.slice(i, i + p.length)));
    i += p.length;
  }
  return out;
}

export async function rootHash(size: number, read: NodeReader): Promise<Buffer> {
  return size === 0 ? EMPTY_ROOT : (await rangeHashes([[0, size]], read))[0]!;
}

export async function inclusionProof(index: number, size: number, read: NodeReader): Promise<Buffer[]> {
  if (!(index >= 0 && index < size))
    throw new VeilError('AUDIT_INVALID_PROOF', `Leaf ${index} is not in a tree of size ${size}.`);
  return rangeHashes(inclusionRanges(index, size), read);
}

export async function consistencyProof(m: number, n: number, read: NodeReader): Promise<Buffer[]> {
  if (!(m > 0 && m <= n)) throw new VeilError('AUDIT_INVALID_PROOF', `No consistency proof from size ${m} to ${n}.`);
  return rangeHashes(consistencyRanges(m, n), read);
}

function sameHash(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function bitLength(x: number): number {
  let n = 0;
  while (x > 0) {
    n++;
    x = Math.floor(x / 2);
  }
  return n;
}

/** Recomputes the root from a leaf and its inclusion proof (RFC 9162 s2.1.3.2). */
export function rootFromInclusionProof(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
): Buffer {
  if (!(index >= 0 && index < size))
    throw new VeilError('AUDIT_INVALID_PROOF', `Index ${index} is outside a tree of size ${size}.`);
  if (leaf.length !== HASH_SIZE || proof.some((p) => p.length !== HASH_SIZE))
    throw new VeilError('AUDIT_INVALID_PROOF', 'Proof hashes must be 32 bytes.');
  // Check the length before hashing: inner nodes on the path plus the right-border nodes.
  const inner = bitLength(index ^ (size - 1));
  const border = popcount(Math.floor(index / 2 ** inner));
  if (proof.length !== inner + border)
    throw new VeilError(
      'AUDIT_INVALID_PROOF',
      `Inclusion proof has ${proof.length} hashes; ${inner + border} expected.`,
    );
  let fn = index;
  let sn = size - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) throw new VeilError('AUDIT_INVALID_PROOF', 'Inclusion proof is too long.');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else r = nodeHash(r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new VeilError('AUDIT_INVALID_PROOF', 'Inclusion proof is too short.');
  return r;
}

function popcount(x: number): number {
  let c = 0;
  while (x > 0) {
    c += x % 2;
    x = Math.floor(x / 2);
  }
  return c;
}

export function verifyInclusion(
  index: number,
  size: number,
  leaf: Uint8Array,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  return sameHash(rootFromInclusionProof(index, size, leaf, proof), root);
}

/** Checks that the tree of size n with root2 extends the tree of size m with root1 (RFC 9162 s2.1.4.2). */
export function verifyConsistency(
  m: number,
  n: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!(m > 0 && m <= n)) throw new VeilError('AUDIT_INVALID_PROOF', `No consistency between sizes ${m} and ${n}.`);
  if (proof.some((p) => p.length !== HASH_SIZE))
    throw new VeilError('AUDIT_INVALID_PROOF', 'Proof hashes must be 32 bytes.');
  if (m === n) {
    if (proof.length !== 0)
      throw new VeilError('AUDIT_INVALID_PROOF', 'A consistency proof between equal sizes must be empty.');
    return sameHash(root1, root2);
  }
  let nodes = [...proof];
  // When m is a power of two, the first subtree root is root1 itself and is not in the proof.
  if (Number.isInteger(Math.log2(m))) nodes = [Buffer.from(root1), ...nodes];
  if (nodes.length === 0) throw new VeilError('AUDIT_INVALID_PROOF', 'Empty consistency proof.');
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(nodes[0]!);
  let sr: Buffer = Buffer.from(nodes[0]!);
  for (const c of nodes.slice(1)) {
    if (sn === 0) throw new VeilError('AUDIT_INVALID_PROOF', 'Consistency proof is too long.');
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else sr = nodeHash(sr, c);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  if (sn !== 0) throw new VeilError('AUDIT_INVALID_PROOF', 'Consistency proof is too short.');
  return sameHash(fr, root1) && sameHash(sr, root2);
}

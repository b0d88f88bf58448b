import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CompactRange, MemoryTree } from '../../src/audit/merkle-range.js';
import {
  EMPTY_ROOT,
  consistencyProof,
  inclusionProof,
  leafHash,
  nodeHash,
  perfectSubtrees,
  rootFromInclusionProof,
  rootHash,
  verifyConsistency,
  verifyInclusion,
} from '../../src/audit/merkle.js';
import { isVeilError } from '../../src/errors.js';

// An independent, straightforward RFC 6962 implementation: recursion over byte arrays, no caching.
const sha = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  parts.forEach((p) => h.update(p));
  return h.digest();
};
function mth(d: Uint8Array[]): Buffer {
  if (d.length === 0) return sha();
  if (d.length === 1) return sha(Buffer.of(0), d[0]!);
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return sha(Buffer.of(1), mth(d.slice(0, k)), mth(d.slice(k)));
}
function path(m: number, d: Uint8Array[]): Buffer[] {
  if (d.length <= 1) return [];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m < k ? [...path(m, d.slice(0, k)), mth(d.slice(k))] : [...path(m - k, d.slice(k)), mth(d.slice(0, k))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Buffer[] {
  if (m === d.length) return b ? [] : [mth(d)];
  let k = 1;
  while (k * 2 < d.length) k *= 2;
  return m <= k
    ? [...subproof(m, d.slice(0, k), b), mth(d.slice(k))]
    : [...subproof(m - k, d.slice(k), false), mth(d.slice(0, k))];
}

// The leaves of the Certificate Transparency reference test vectors.
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((h) => Buffer.from(h, 'hex'));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

test('known answers: empty root, leaf and node hashing with RFC 6962 prefixes', () => {
  assert.equal(EMPTY_ROOT.toString('hex'), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    leafHash(Buffer.alloc(0)).toString('hex'),
    '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  );
  assert.deepEqual(
    nodeHash(Buffer.alloc(32, 1), Buffer.alloc(32, 2)),
    sha(Buffer.of(1), Buffer.alloc(32, 1), Buffer.alloc(32, 2)),
  );
});

test('known answers: CT reference roots for trees of 1..8 leaves', async () => {
  const t = new MemoryTree();
  for (let i = 0; i < CT_LEAVES.length; i++) {
    t.append(leafHash(CT_LEAVES[i]!));
    assert.equal((await rootHash(i + 1, t.read)).toString('hex'), CT_ROOTS[i], `size ${i + 1}`);
  }
});

test('roots, inclusion and consistency proofs equal the straightforward implementation for sizes 1..17', async () => {
  const data = Array.from({ length: 17 }, (_, i) => Buffer.from(`entry-${i}`));
  const t = new MemoryTree();
  const cr = new CompactRange();
  for (let n = 1; n <= 17; n++) {
    t.append(leafHash(data[n - 1]!));
    cr.append(leafHash(data[n - 1]!));
    const d = data.slice(0, n);
    const root = await rootHash(n, t.read);
    assert.deepEqual(root, mth(d), `root ${n}`);
    assert.deepEqual(cr.root(), root, `compact range root ${n}`);
    for (let m = 0; m < n; m++) {
      const p = await inclusionProof(m, n, t.read);
      assert.deepEqual(p, path(m, d), `inclusion ${m} in ${n}`);
      assert.ok(verifyInclusion(m, n, leafHash(data[m]!), p, root));
    }
    for (let m = 1; m <= n; m++) {
      const p = await consistencyProof(m, n, t.read);
      assert.deepEqual(p, subproof(m, d, true), `consistency ${m} -> ${n}`);
      assert.ok(verifyConsistency(m, n, mth(data.slice(0, m)), root, p), `verify consistency ${m} -> ${n}`);
    }
  }
});

/** A proof is refused when verification returns false or throws the coded proof error. */
function refused(fn: () => boolean): boolean {
  try {
    return !fn();
  } catch (e) {
    return isVeilError(e, 'AUDIT_INVALID_PROOF');
  }
}

test('hostile proofs are refused with a coded error or a false result, never accepted', async () => {
  const data = Array.from({ length: 13 }, (_, i) => leafHash(Buffer.from([i])));
  const t = new MemoryTree();
  data.forEach((d) => t.append(d));
  const root = await rootHash(13, t.read);
  const p = await inclusionProof(5, 13, t.read);
  assert.equal(verifyInclusion(5, 13, data[6]!, p, root), false, 'wrong leaf');
  assert.equal(verifyInclusion(6, 13, data[5]!, p, root), false, 'wrong index');
  const flipped = p.map((x, i) => (i === 1 ? Buffer.from(x.map((b, j) => (j === 0 ? b ^ 1 : b))) : x));
  assert.equal(verifyInclusion(5, 13, data[5]!, flipped, root), false, 'flipped bit');
  for (const bad of [p.slice(1), [...p, p[0]!], [Buffer.alloc(31), ...p.slice(1)]]) {
    assert.throws(
      () => rootFromInclusionProof(5, 13, data[5]!, bad),
      (e) => isVeilError(e, 'AUDIT_INVALID_PROOF'),
    );
  }
  assert.throws(
    () => rootFromInclusionProof(13, 13, data[0]!, p),
    (e) => isVeilError(e, 'AUDIT_INVALID_PROOF'),
  );
  const c = await consistencyProof(5, 13, t.read);
  const root5 = await rootHash(5, t.read);
  assert.equal(verifyConsistency(5, 13, root5, root, c), true);
  assert.equal(verifyConsistency(5, 13, root, root5, c), false, 'swapped roots');
  assert.equal(
    refused(() => verifyConsistency(6, 13, root5, root, c)),
    true,
    'wrong size',
  );
  assert.throws(
    () => verifyConsistency(5, 13, root5, root, c.slice(1)),
    (e) => isVeilError(e, 'AUDIT_INVALID_PROOF'),
  );
  assert.throws(
    () => verifyConsistency(5, 13, root5, root, [...c, c[0]!]),
    (e) => isVeilError(e, 'AUDIT_INVALID_PROOF'),
  );
});

test('property: random trees, random proofs, all verify; a compact range continues from any frontier', async () => {
  let seed = 42;
  const rnd = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  for (let round = 0; round < 30; round++) {
    const n = 1 + rnd(300);
    const t = new MemoryTree();
    const leaves = Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`${round}:${i}`)));
    leaves.forEach((l) => t.append(l));
    const root = await rootHash(n, t.read);
    for (let k = 0; k < 5; k++) {
      const i = rnd(n);
      assert.ok(verifyInclusion(i, n, leaves[i]!, await inclusionProof(i, n, t.read), root));
      const m = 1 + rnd(n);
      assert.ok(verifyConsistency(m, n, await rootHash(m, t.read), root, await consistencyProof(m, n, t.read)));
    }
    const cut = rnd(n);
    const cr = new CompactRange(cut, t.read(perfectSubtrees(0, cut)) as Buffer[]);
    leaves.slice(cut).forEach((l) => cr.append(l));
    assert.deepEqual(cr.root(), root);
  }
});

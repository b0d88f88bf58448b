/**
 * Standalone verifier of an audit export. Depends only on node:crypto and the pure modules beside
 * it (canonical JSON, Merkle hashing, head signatures): a regulator can run it without Veil's store.
 */
import { createPublicKey } from 'node:crypto';
import { canonicalJson, type Json } from './canonical.js';
import { GENESIS_PREV, type AuditEntry } from './entry.js';
import { leafHash } from './merkle.js';
import { CompactRange } from './merkle-range.js';
import { keyIdOf, verifyHeadSignature, type TreeHead } from './tree-head.js';
import { EXPORT_TYPE, type ExportHeader, type ExportKey } from './export-format.js';

export type VerifyFailure =
  | { code: 'AUDIT_BAD_EXPORT'; line: number; message: string }
  | { code: 'AUDIT_TAMPERED'; seq: number; message: string }
  | { code: 'AUDIT_BAD_SIGNATURE'; headSize: number; keyId: string; message: string };

export interface VerifyReport {
  readonly ok: boolean;
  readonly entries: number;
  readonly from: number;
  readonly to: number;
  readonly headsVerified: number;
  readonly trustedKeys: readonly string[];
  /** 'pinned' when the caller supplied the public key(s); 'export' when the export's own keys were used. */
  readonly trust: 'pinned' | 'export';
  readonly latestHead: TreeHead | null;
  readonly failure?: VerifyFailure;
}

export interface VerifyOptions {
  /** Public keys (SPKI PEM) the verifier trusts from elsewhere, e.g. the operator's published key. */
  readonly trustedPublicKeys?: readonly string[];
}

function parseLine(text: string, n: number): Record<string, unknown> {
  try {
    const v = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch {
    /* fall through */
  }
  throw { code: 'AUDIT_BAD_EXPORT', line: n, message: `line ${n} is not a JSON object` } satisfies VerifyFailure;
}

function isHead(h: unknown): h is TreeHead {
  const x = h as TreeHead;
  return (
    !!x &&
    Number.isSafeInteger(x.size) &&
    x.size >= 0 &&
    /^[0-9a-f]{64}$/.test(x.rootHash) &&
    typeof x.timestamp === 'string' &&
    typeof x.keyId === 'string' &&
    typeof x.signature === 'string' &&
    (x.nextKeyId === undefined || typeof x.nextKeyId === 'string')
  );
}

/**
 * Keys trusted directly, plus keys a trusted key named as its successor in a rotation head that
 * the successor also signed (same size and root). Merely signing the same root vouches for nothing.
 */
function trustChain(keys: readonly ExportKey[], heads: readonly TreeHead[], anchors: readonly string[]): Set<string> {
  const trusted = new Set(anchors);
  let grew = true;
  while (grew) {
    grew = false;
    for (const k of keys) {
      if (trusted.has(k.keyId)) continue;
      const vouched = heads.some(
        (h) =>
          h.keyId === k.keyId &&
          verifyHeadSignature(h, k.publicKey) &&
          heads.some(
            (o) =>
              trusted.has(o.keyId) &&
              o.nextKeyId === k.keyId &&
              o.size === h.size &&
              o.rootHash === h.rootHash &&
              verifyHeadSignature(o, keys.find((x) => x.keyId === o.keyId)!.publicKey),
          ),
      );
      if (vouched) {
        trusted.add(k.keyId);
        grew = true;
      }
    }
  }
  return trusted;
}

export function verifyExport(lines: Iterable<string>, opts: VerifyOptions = {}): VerifyReport {
  let header: ExportHeader | null = null;
  const entries: AuditEntry[] = [];
  const heads: TreeHead[] = [];
  const base = {
    ok: false,
    entries: 0,
    from: 0,
    to: 0,
    headsVerified: 0,
    trustedKeys: [] as string[],
    trust: 'export' as const,
    latestHead: null,
  };
  try {
    let n = 0;
    for (const raw of lines) {
      n++;
      if (!raw.trim()) continue;
      const v = parseLine(raw, n);
      if (n === 1) {
        if (v['type'] !== EXPORT_TYPE)
          throw { code: 'AUDIT_BAD_EXPORT', line: 1, message: `not a ${EXPORT_TYPE} export` } satisfies VerifyFailure;
        header = v as unknown as ExportHeader;
      } else if (v['type'] === 'entry') entries.push(v['entry'] as AuditEntry);
      else if (v['type'] === 'head') {
        if (!isHead(v['head']))
          throw {
            code: 'AUDIT_BAD_EXPORT',
            line: n,
            message: `line ${n} is not a valid tree head`,
          } satisfies VerifyFailure;
        heads.push(v['head']);
      } else
        throw {
          code: 'AUDIT_BAD_EXPORT',
          line: n,
          message: `line ${n} has unknown type ${String(v['type'])}`,
        } satisfies VerifyFailure;
    }
    if (!header) throw { code: 'AUDIT_BAD_EXPORT', line: 1, message: 'the export is empty' } satisfies VerifyFailure;
  } catch (f) {
    return { ...base, failure: f as VerifyFailure };
  }
  const h = header;
  const result = { ...base, from: h.from, to: h.to, entries: entries.length };

  // Keys: every listed key must match its id; trust starts from pinned keys or, failing that, the export.
  for (const k of h.keys) {
    try {
      if (keyIdOf(createPublicKey(k.publicKey)) !== k.keyId) throw new Error();
    } catch {
      return {
        ...result,
        failure: { code: 'AUDIT_BAD_EXPORT', line: 1, message: `key ${k.keyId} does not match its public key` },
      };
    }
  }
  const pinned = (opts.trustedPublicKeys ?? []).map((p) => keyIdOf(createPublicKey(p)));
  const anchors = pinned.length ? pinned : h.keys.slice(0, 1).map((k) => k.keyId);
  const trusted = trustChain(h.keys, heads, anchors);
  const trust = pinned.length ? ('pinned' as const) : ('export' as const);
  const out = { ...result, trust, trustedKeys: [...trusted] };

  for (const head of heads) {
    const key = h.keys.find((k) => k.keyId === head.keyId);
    if (!key || !verifyHeadSignature(head, key.publicKey)) {
      return {
        ...out,
        failure: {
          code: 'AUDIT_BAD_SIGNATURE',
          headSize: head.size,
          keyId: head.keyId,
          message: `the signature on the head of size ${head.size} by key ${head.keyId} does not verify`,
        },
      };
    }
    if (!trusted.has(head.keyId)) {
      return {
        ...out,
        failure: {
          code: 'AUDIT_BAD_SIGNATURE',
          headSize: head.size,
          keyId: head.keyId,
          message: `the head of size ${head.size} is signed by key ${head.keyId}, which no trusted key vouches for`,
        },
      };
    }
  }

  let range: CompactRange;
  try {
    range = new CompactRange(
      h.prefix.size,
      h.prefix.frontier.map((x) => Buffer.from(x, 'hex')),
    );
  } catch {
    return {
      ...out,
      failure: { code: 'AUDIT_BAD_EXPORT', line: 1, message: 'the prefix frontier does not fit its size' },
    };
  }
  const bySize = new Map<number, TreeHead[]>();
  for (const hd of heads) bySize.set(hd.size, [...(bySize.get(hd.size) ?? []), hd]);
  let headsVerified = 0;
  let lastGood = h.prefix.size;
  let latest: TreeHead | null = null;
  const checkHeadsAt = (size: number): VerifyFailure | null => {
    for (const hd of bySize.get(size) ?? []) {
      if (range.root().toString('hex') !== hd.rootHash) {
        return {
          code: 'AUDIT_TAMPERED',
          seq: lastGood + 1,
          message: `the signed head of size ${size} does not match the entries: an entry between seq ${lastGood + 1} and ${size} was changed`,
        };
      }
      headsVerified++;
      latest = hd;
    }
    if (bySize.has(size)) lastGood = size;
    return null;
  };
  const early = checkHeadsAt(range.size);
  if (early) return { ...out, headsVerified, failure: early };
  let prevHash: string | null = null;
  let prevPrevHash: string | null = null;
  const present = new Set(entries.map((e) => e?.seq));
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    const expected = h.from + i;
    const fail = (seq: number, message: string): VerifyReport => ({
      ...out,
      headsVerified,
      failure: { code: 'AUDIT_TAMPERED', seq, message },
    });
    if (!e || typeof e !== 'object') return fail(expected, `entry ${expected} is not an object`);
    // The chain tells an inserted entry apart: its successor still links to the entry before it.
    if (prevHash !== null && e.prev !== prevHash && e.prev === prevPrevHash) {
      return fail(
        expected - 1,
        `entry at position ${expected - 1} was inserted: the entry after it links to the one before it`,
      );
    }
    if (e.seq !== expected) {
      if (e.seq > expected && !present.has(expected))
        return fail(expected, `entry ${expected} is missing (deleted): found seq ${e.seq} in its place`);
      return fail(expected, `entry ${expected} is out of order: found seq ${e.seq} in its place`);
    }
    if (prevHash !== null && e.prev !== prevHash)
      return fail(e.seq - 1, `entry ${e.seq - 1} was changed: entry ${e.seq} recorded a different hash for it`);
    if (expected === 1 && e.prev !== GENESIS_PREV) return fail(1, 'entry 1 does not start the chain');
    const leaf = leafHash(Buffer.from(canonicalJson(e as unknown as Json), 'utf8'));
    prevPrevHash = prevHash;
    prevHash = leaf.toString('hex');
    range.append(leaf);
    const f = checkHeadsAt(range.size);
    if (f) return { ...out, headsVerified, failure: f };
  }
  if (entries.length !== h.to - h.from + 1) {
    return {
      ...out,
      headsVerified,
      failure: {
        code: 'AUDIT_TAMPERED',
        seq: h.from + entries.length,
        message: `the export declares entries ${h.from}..${h.to} but holds ${entries.length}: entries were removed from the end`,
      },
    };
  }
  const uncovered = heads.filter((hd) => hd.size > range.size || hd.size < h.prefix.size);
  if (uncovered.length) {
    return {
      ...out,
      headsVerified,
      failure: {
        code: 'AUDIT_TAMPERED',
        seq: range.size + 1,
        message: `a signed head covers ${uncovered[0]!.size} entries but the export ends at ${range.size}: entries were removed from the end`,
      },
    };
  }
  return { ...out, ok: true, headsVerified, latestHead: latest };
}

import { canonicalJson, type Json } from './canonical.js';
import { assertNoPersonalData, entryLeafHash, GENESIS_PREV, type AuditEntry, type AuditInput } from './entry.js';
import { consistencyProof, inclusionProof, perfectSubtrees, rootHash } from './merkle.js';
import { CompactRange, type NodeRecord } from './merkle-range.js';
import { signHead, type TreeHead } from './tree-head.js';
import { auditRepository as repo } from './audit.repository.js';
import { EXPORT_TYPE, type ExportLine } from './export-format.js';
import type { AuditSigningKey } from './signing-key.js';
import type { Clock } from '../clock.js';
import type { Executor } from '../store/store.js';
import { VeilError } from '../errors.js';

export interface AuditLogOptions {
  /** Sign a tree head at least every this many entries. */
  readonly checkpointEvery: number;
  /** ... and at least every this many seconds when there are new entries (see maybeCheckpoint). */
  readonly checkpointSeconds: number;
}

export const DEFAULT_AUDIT_OPTIONS: AuditLogOptions = { checkpointEvery: 1000, checkpointSeconds: 60 };

export interface InclusionProofResult {
  readonly seq: number;
  readonly leafIndex: number;
  readonly leafHash: string;
  readonly entry: AuditEntry;
  readonly treeSize: number;
  readonly proof: readonly string[];
  readonly head: TreeHead;
}

const hex = (b: Buffer): string => b.toString('hex');

/**
 * The append-only audit log. Appends run inside the caller's transaction, so a change and its
 * entry commit together or not at all. Entries form a Merkle tree (RFC 6962) whose signed heads
 * and proofs anyone holding the public key can check offline.
 */
export class AuditLog {
  /**
   * The tree's right edge after this transaction's last append. The transaction holds the append
   * lock until it ends, so later appends in it can start from here instead of re-reading the edge
   * (four round trips each on PostgreSQL). Dropped with the transaction object.
   */
  private readonly edges = new WeakMap<object, { range: CompactRange; prev: string }>();

  constructor(
    private readonly deps: { clock: Clock; key: AuditSigningKey; serialize?: (tx: Executor) => Promise<void> },
    private readonly opts: AuditLogOptions = DEFAULT_AUDIT_OPTIONS,
  ) {}

  get keyId(): string {
    return this.deps.key.keyId;
  }

  get publicKeyPem(): string {
    return this.deps.key.publicKeyPem;
  }

  /** Registers the signing key's public half, so exports carry it. */
  async init(ex: Executor): Promise<void> {
    await repo.addKey(ex, this.deps.key.keyId, this.deps.key.publicKeyPem, this.deps.clock.now().toISOString());
  }

  async append(tx: Executor, input: AuditInput): Promise<AuditEntry> {
    return (await this.appendMany(tx, [input]))[0]!;
  }

  /** Appends in one go (one read of the tree edge, bulk inserts): the batching path. */
  async appendMany(tx: Executor, inputs: readonly AuditInput[]): Promise<AuditEntry[]> {
    if (!inputs.length) return [];
    const cached = tx.isTransaction ? this.edges.get(tx) : undefined;
    this.edges.delete(tx);
    if (!cached) await this.deps.serialize?.(tx);
    const size = cached ? cached.range.size : await repo.size(tx);
    const range = cached?.range ?? new CompactRange(size, await repo.nodes(tx, perfectSubtrees(0, size)));
    let prev = cached ? cached.prev : size === 0 ? GENESIS_PREV : hex((await repo.leafHash(tx, size))!);
    const time = this.deps.clock.now().toISOString();
    const rows = [];
    const nodes: NodeRecord[] = [];
    const entries: AuditEntry[] = [];
    for (const input of inputs) {
      const detail = (input.detail ?? {}) as Record<string, Json>;
      assertNoPersonalData(detail);
      const entry: AuditEntry = {
        seq: range.size + 1,
        time,
        actor: { kind: input.actor.kind, id: input.actor.id },
        action: input.action,
        subjectIds: [...(input.subjectIds ?? [])],
        purposeId: input.purposeId ?? null,
        detail,
        prev,
      };
      const leaf = entryLeafHash(entry);
      nodes.push(...range.append(leaf));
      rows.push({
        seq: entry.seq,
        time,
        action: entry.action,
        actor_kind: entry.actor.kind,
        actor_id: entry.actor.id,
        purpose_id: entry.purposeId,
        subject_ids: ` ${entry.subjectIds.join(' ')} `,
        body: canonicalJson(entry as unknown as Json),
        leaf_hash: leaf,
      });
      entries.push(entry);
      prev = hex(leaf);
    }
    await repo.insert(tx, rows, nodes);
    // Only after the rows are in: a failed insert leaves no edge behind, and the next append re-reads.
    if (tx.isTransaction) this.edges.set(tx, { range, prev });
    const every = this.opts.checkpointEvery;
    if (Math.floor(range.size / every) > Math.floor(size / every)) await this.storeHead(tx, range.size, range.root());
    return entries;
  }

  private async storeHead(ex: Executor, size: number, root: Buffer): Promise<TreeHead> {
    const head = signHead(
      { size, rootHash: hex(root), timestamp: this.deps.clock.now().toISOString(), keyId: this.deps.key.keyId },
      this.deps.key.privateKey,
    );
    await repo.insertHead(ex, head);
    return head;
  }

  /** Signs a head over the whole log now (on demand). */
  async signHead(ex: Executor): Promise<TreeHead> {
    const size = await repo.size(ex);
    return this.storeHead(ex, size, await rootHash(size, (ids) => repo.nodes(ex, ids)));
  }

  /** The time-based checkpoint: sign when entries arrived since the last head and it is old enough. */
  async maybeCheckpoint(ex: Executor): Promise<TreeHead | null> {
    const [size, last] = [await repo.size(ex), await repo.latestHead(ex, this.keyId)];
    if (last && last.size === size) return null;
    if (
      last &&
      this.deps.clock.now().getTime() - new Date(last.timestamp).getTime() < this.opts.checkpointSeconds * 1000
    )
      return null;
    return this.signHead(ex);
  }

  /** The latest head by the current key, signing one when none covers the log yet. */
  async latestHead(ex: Executor): Promise<TreeHead> {
    const last = await repo.latestHead(ex, this.keyId);
    if (last && last.size === (await repo.size(ex))) return last;
    return this.signHead(ex);
  }

  async size(ex: Executor): Promise<number> {
    return repo.size(ex);
  }

  async entries(ex: Executor, from: number, to: number): Promise<AuditEntry[]> {
    return (await repo.entries(ex, from, to)).map((r) => JSON.parse(r.body) as AuditEntry);
  }

  async inclusionProof(ex: Executor, seq: number, head?: TreeHead): Promise<InclusionProofResult> {
    const h = head ?? (await this.latestHead(ex));
    if (!(Number.isInteger(seq) && seq >= 1 && seq <= h.size))
      throw new VeilError('NOT_FOUND', `No audit entry ${seq} in the signed log of size ${h.size}.`);
    const [row] = await repo.entries(ex, seq, seq);
    const proof = await inclusionProof(seq - 1, h.size, (ids) => repo.nodes(ex, ids));
    return {
      seq,
      leafIndex: seq - 1,
      leafHash: hex(row!.leaf_hash),
      entry: JSON.parse(row!.body),
      treeSize: h.size,
      proof: proof.map(hex),
      head: h,
    };
  }

  async consistencyProof(ex: Executor, from: number, to: number): Promise<string[]> {
    const size = await repo.size(ex);
    if (to > size) throw new VeilError('NOT_FOUND', `The log has ${size} entries, not ${to}.`);
    return (await consistencyProof(from, to, (ids) => repo.nodes(ex, ids))).map(hex);
  }

  /** Export lines for entries [from, to] (to defaults to the newest signed head, signed now if needed). */
  async *exportLines(ex: Executor, from = 1, to?: number): AsyncGenerator<ExportLine> {
    // Sign a new head only when the requested range is not yet covered by one.
    let head = await repo.latestHead(ex, this.keyId);
    if (!head || (to ?? (await repo.size(ex))) > head.size) head = await this.signHead(ex);
    const last = to ?? head.size;
    if (!(from >= 1 && last >= from - 1 && last <= head.size))
      throw new VeilError('INVALID_INPUT', `Export range ${from}..${last} is outside the signed log 1..${head.size}.`);
    const prefixIds = perfectSubtrees(0, from - 1);
    const keys = await repo.keys(ex);
    yield {
      type: EXPORT_TYPE,
      exportedAt: this.deps.clock.now().toISOString(),
      from,
      to: last,
      prefix: { size: from - 1, frontier: (await repo.nodes(ex, prefixIds)).map(hex) },
      keys: keys.map((k) => ({
        keyId: k.key_id,
        publicKey: k.public_key,
        createdAt: k.created_at,
        retiredAt: k.retired_at,
      })),
    };
    for (let s = from; s <= last; s += 5000) {
      for (const r of await repo.entries(ex, s, Math.min(last, s + 4999)))
        yield { type: 'entry', entry: JSON.parse(r.body) };
    }
    for (const h of await repo.heads(ex, from, last)) yield { type: 'head', head: h };
  }

  /** Rotation: the new key signs a head that the old key also signs, so verifiers can follow the chain. */
  async crossSign(ex: Executor, next: AuditSigningKey): Promise<{ old: TreeHead; next: TreeHead }> {
    const size = await repo.size(ex);
    const root = (await rootHash(size, (ids) => repo.nodes(ex, ids))).toString('hex');
    const timestamp = this.deps.clock.now().toISOString();
    const old = signHead(
      { size, rootHash: root, timestamp, keyId: this.keyId, nextKeyId: next.keyId },
      this.deps.key.privateKey,
    );
    await repo.insertHead(ex, old);
    await repo.addKey(ex, next.keyId, next.publicKeyPem, timestamp);
    const nh = signHead({ size, rootHash: root, timestamp, keyId: next.keyId }, next.privateKey);
    await repo.insertHead(ex, nh);
    await repo.retireKey(ex, this.keyId, this.deps.clock.now().toISOString());
    return { old, next: nh };
  }
}

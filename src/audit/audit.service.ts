import type { Store } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { AuditLog, InclusionProofResult } from './audit.log.js';
import { auditRepository } from './audit.repository.js';
import type { TreeHead } from './tree-head.js';
import { prepareRotation } from './signing-key.js';
import { VeilError } from '../errors.js';
import { verifyExport } from './verify.js';

export interface EntryFilter {
  readonly subject?: string | undefined;
  readonly purpose?: string | undefined;
  readonly actor?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly cursor?: number | undefined;
  readonly limit: number;
}

/** The audit log as auditors and the DPO read it: signed heads, proofs, entries, exports. */
export class AuditService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      policy: AccessPolicy;
      dataDir: string;
      keyFromSettings: boolean;
    },
  ) {}

  /** Public: anyone verifying a log or a certificate needs it. */
  publicKey(): { keyId: string; publicKey: string } {
    return { keyId: this.deps.audit.keyId, publicKey: this.deps.audit.publicKeyPem };
  }

  async head(actor: Actor): Promise<TreeHead> {
    this.deps.policy.require(actor, 'audit.read');
    return this.deps.store.transaction((tx) => this.deps.audit.latestHead(tx));
  }

  async proof(actor: Actor, seq: number): Promise<InclusionProofResult> {
    this.deps.policy.require(actor, 'audit.read');
    return this.deps.store.transaction((tx) => this.deps.audit.inclusionProof(tx, seq));
  }

  async consistency(actor: Actor, from: number, to: number): Promise<string[]> {
    this.deps.policy.require(actor, 'audit.read');
    return this.deps.audit.consistencyProof(this.deps.store.db, from, to);
  }

  async entries(actor: Actor, f: EntryFilter): Promise<{ items: unknown[]; nextCursor: string | null }> {
    this.deps.policy.require(actor, 'audit.read');
    const rows = await auditRepository.search(this.deps.store.db, { ...f, limit: f.limit + 1 });
    const more = rows.length > f.limit;
    return {
      items: rows.slice(0, f.limit).map((r) => JSON.parse(r.body)),
      nextCursor: more ? String(rows[f.limit]!.seq) : null,
    };
  }

  /** The log as JSON lines for offline verification; the export itself is an audited act. */
  async export(actor: Actor, from?: number, to?: number): Promise<string[]> {
    const lines: string[] = [];
    await this.exportEach(actor, from, to, async (l) => void lines.push(l));
    return lines;
  }

  /** The export a line at a time (to a file of any size); returns how many entries it held. */
  async exportEach(
    actor: Actor,
    from: number | undefined,
    to: number | undefined,
    write: (line: string) => Promise<void>,
  ): Promise<number> {
    this.deps.policy.require(actor, 'audit.read');
    let entries = 0;
    let lines = 0;
    await this.deps.store.transaction(async (tx) => {
      for await (const l of this.deps.audit.exportLines(tx, from ?? 1, to)) {
        await write(JSON.stringify(l));
        lines++;
        if ((l as { type: string }).type === 'entry') entries++;
      }
      await this.deps.audit.append(tx, { actor, action: 'audit.exported', detail: { lines, entries } });
    });
    return entries;
  }

  /** Signs a tree head over the whole log now. */
  async signNow(actor: Actor): Promise<TreeHead> {
    this.deps.policy.require(actor, 'audit.read');
    return this.deps.store.transaction((tx) => this.deps.audit.signHead(tx));
  }

  /** A new signing key: the old one names and co-signs its successor, then its file is destroyed. */
  async rotateKey(actor: Actor): Promise<{ oldKeyId: string; newKeyId: string; crossSigned: unknown; size: number }> {
    this.deps.policy.require(actor, 'keys.manage');
    if (this.deps.keyFromSettings)
      throw new VeilError('INVALID_INPUT', 'The signing key comes from VEIL_AUDIT_SIGNING_KEY; rotate it there.');
    const { next, commit } = prepareRotation(this.deps.dataDir);
    const heads = await this.deps.store.transaction(async (tx) => {
      const r = await this.deps.audit.crossSign(tx, next);
      await this.deps.audit.append(tx, {
        actor,
        action: 'audit.key.rotated',
        detail: { oldKeyId: r.old.keyId, newKeyId: next.keyId, size: r.old.size },
      });
      return r;
    });
    commit();
    return { oldKeyId: heads.old.keyId, newKeyId: next.keyId, crossSigned: heads, size: heads.old.size };
  }

  /** Runs the standalone verifier over the whole log now (the console's button). */
  async verify(actor: Actor): Promise<ReturnType<typeof verifyExport> & { ms: number }> {
    this.deps.policy.require(actor, 'audit.read');
    const lines: string[] = [];
    for await (const l of this.deps.audit.exportLines(this.deps.store.db)) lines.push(JSON.stringify(l));
    const t0 = performance.now();
    const r = verifyExport(lines, { trustedPublicKeys: [this.deps.audit.publicKeyPem] });
    return { ...r, ms: Math.round(performance.now() - t0) };
  }
}

import { createHash, sign } from 'node:crypto';
import { strToU8, zipSync } from 'fflate';
import { z } from 'zod';

import type { Actor } from '../auth/actor.js';
import { parseInput } from '../validation.js';
import { figuresRepository, orderRepository } from './oversight.repository.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import { canonicalJson, type Json } from '../audit/canonical.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import { buildRopa, ropaMarkdown } from './ropa.js';
import type { OversightSettings } from './settings.js';
import type { CoreDeps } from '../service-deps.js';

export const DemandSchema = z.object({
  type: z.enum(['suspend-purpose', 'erase-population', 'answer-questions', 'provide-records', 'other']),
  detail: z.string().min(3).max(5000),
  purpose: z.string().optional(),
});

export const OrderInputSchema = z.object({
  authority: z.string().min(2).max(200),
  reference: z.string().min(1).max(200),
  receivedAt: z.string().datetime(),
  deadline: z.string().datetime(),
  demands: z.array(DemandSchema).min(1).max(50),
});

export const ActionInputSchema = z.object({
  kind: z.enum(['suspend-purpose', 'resume-purpose', 'erasure', 'export', 'answer', 'other']),
  description: z.string().min(3).max(5000),
  purpose: z.string().optional(),
});

export interface Order {
  readonly id: string;
  readonly authority: string;
  readonly reference: string;
  readonly receivedAt: string;
  readonly deadline: string;
  readonly demands: z.output<typeof DemandSchema>[];
  readonly countsAtReceipt: Record<string, number>;
  readonly status: 'open' | 'closed';
  readonly closedAt: string | null;
  readonly overdue: boolean;
  readonly actions: { seq: number; kind: string; description: string; auditSeq: number; at: string }[];
}

/** Art. 31 and 58: a regulator's order, the actions taken on it, and the evidence to send back. */
export class OrderService {
  constructor(
    private readonly deps: CoreDeps & {
      purposes: PurposeService;
      signingKey: AuditSigningKey;
      settings: OversightSettings;
    },
  ) {}

  private async counts() {
    const db = this.deps.store.db;
    return { ...(await figuresRepository.totals(db)), auditEntries: await this.deps.audit.size(db) };
  }

  async record(actor: Actor, raw: unknown): Promise<Order> {
    this.deps.policy.require(actor, 'oversight.manage');
    const o = parseInput(OrderInputSchema, raw);
    const id = newId.other('ord');
    const counts = await this.counts();
    await this.deps.store.transaction(async (tx) => {
      await orderRepository.insert(tx, { id, ...o, counts });
      await this.deps.audit.append(tx, {
        actor,
        action: 'order.recorded',
        detail: {
          orderId: id,
          authority: o.authority,
          reference: o.reference,
          deadline: o.deadline,
          demands: o.demands.map((d) => d.type),
        },
      });
    });
    return this.read(id);
  }

  async act(actor: Actor, orderId: string, raw: unknown): Promise<Order> {
    this.deps.policy.require(actor, 'oversight.manage');
    const o = await this.read(orderId);
    const a = parseInput(ActionInputSchema, raw);
    if (a.kind === 'suspend-purpose' || a.kind === 'resume-purpose') {
      if (!a.purpose) throw new VeilError('INVALID_INPUT', 'A suspension names the purpose.');
      await this.deps.purposes.setSuspended(
        actor,
        a.purpose,
        a.kind === 'suspend-purpose',
        `order ${o.reference} (${o.authority})`,
      );
    }
    await this.deps.store.transaction(async (tx) => {
      const entry = await this.deps.audit.append(tx, {
        actor,
        action: 'order.action',
        detail: { orderId, kind: a.kind, purpose: a.purpose ?? null },
      });
      const at = this.deps.clock.now().toISOString();
      await orderRepository.addAction(tx, {
        orderId,
        kind: a.kind,
        description: a.description,
        auditSeq: entry.seq,
        at,
      });
    });
    return this.read(orderId);
  }

  async close(actor: Actor, orderId: string): Promise<Order> {
    this.deps.policy.require(actor, 'oversight.manage');
    await this.read(orderId);
    await this.deps.store.transaction(async (tx) => {
      await orderRepository.close(tx, orderId, this.deps.clock.now().toISOString());
      await this.deps.audit.append(tx, { actor, action: 'order.closed', detail: { orderId } });
    });
    return this.read(orderId);
  }

  async get(actor: Actor, id: string): Promise<Order> {
    this.deps.policy.require(actor, 'oversight.read');
    return this.read(id);
  }

  private async read(id: string): Promise<Order> {
    const found = await orderRepository.get(this.deps.store.db, id);
    if (!found) throw new VeilError('NOT_FOUND', `No order '${id}'.`);
    const { row: r, actions } = found;
    return {
      id: r.id,
      authority: r.authority,
      reference: r.reference,
      receivedAt: r.received_at,
      deadline: r.deadline,
      demands: JSON.parse(r.demands),
      countsAtReceipt: JSON.parse(r.counts_at_receipt),
      status: r.status as 'open' | 'closed',
      closedAt: r.closed_at,
      overdue: r.status === 'open' && r.deadline < this.deps.clock.now().toISOString(),
      actions: actions.map((a) => ({
        seq: a.seq,
        kind: a.kind,
        description: a.description,
        auditSeq: Number(a.audit_seq),
        at: a.at,
      })),
    };
  }

  async list(actor: Actor, opts: { overdue?: boolean } = {}): Promise<Order[]> {
    this.deps.policy.require(actor, 'oversight.read');
    const all = await Promise.all((await orderRepository.ids(this.deps.store.db)).map((id) => this.read(id)));
    return opts.overdue ? all.filter((o) => o.overdue) : all;
  }

  /**
   * The evidence bundle: the order, each action with the inclusion proof of its audit entry, the
   * ROPA now, counts at receipt and now, the full audit export with the public key, and a manifest
   * of SHA-256 digests signed with the audit key. The regulator verifies it without the operator.
   */
  async bundle(actor: Actor, orderId: string): Promise<Buffer> {
    this.deps.policy.require(actor, 'oversight.manage');
    const o = await this.read(orderId);
    const now = this.deps.clock.now();
    const files: Record<string, Uint8Array> = {};
    const head = await this.deps.store.transaction(async (tx) => {
      await this.deps.audit.append(tx, {
        actor,
        action: 'audit.exported',
        detail: { orderId, purpose: 'evidence bundle' },
      });
      return this.deps.audit.signHead(tx);
    });
    const proofs = [];
    for (const a of o.actions)
      proofs.push({ ...a, inclusion: await this.deps.audit.inclusionProof(this.deps.store.db, a.auditSeq, head) });
    const ropa = await buildRopa({ store: this.deps.store }, this.deps.settings, now);
    const lines: string[] = [];
    for await (const l of this.deps.audit.exportLines(this.deps.store.db, 1, head.size)) lines.push(JSON.stringify(l));
    files['order.json'] = strToU8(JSON.stringify(o, null, 2));
    files['actions.json'] = strToU8(JSON.stringify(proofs, null, 2));
    files['ropa.json'] = strToU8(JSON.stringify(ropa, null, 2));
    files['ropa.md'] = strToU8(ropaMarkdown(ropa));
    files['counts.json'] = strToU8(JSON.stringify({ atReceipt: o.countsAtReceipt, now: await this.counts() }, null, 2));
    files['audit.jsonl'] = strToU8(lines.join('\n') + '\n');
    files['audit-public-key.pem'] = strToU8(this.deps.audit.publicKeyPem);
    files['README.txt'] = strToU8(
      `Evidence for order ${o.reference} from ${o.authority}, generated ${now.toISOString()} by ${this.deps.settings.controller.name}.\nVerify the audit log: veil audit verify audit.jsonl --pubkey audit-public-key.pem\nEach action in actions.json carries the Merkle inclusion proof of its audit entry against the signed head in it.\nmanifest.json lists the SHA-256 of every file; manifest.sig is its Ed25519 signature by the audit key.\n`,
    );
    const manifest = {
      type: 'veil.evidence-bundle.v1',
      orderId,
      generatedAt: now.toISOString(),
      keyId: this.deps.signingKey.keyId,
      head,
      files: Object.fromEntries(
        Object.entries(files).map(([k, v]) => [k, createHash('sha256').update(v).digest('hex')]),
      ),
    };
    files['manifest.json'] = strToU8(canonicalJson(manifest as unknown as Json));
    files['manifest.sig'] = strToU8(
      sign(null, Buffer.from(files['manifest.json']), this.deps.signingKey.privateKey).toString('base64'),
    );
    return Buffer.from(zipSync(files, { level: 6 }));
  }

  /** Open orders past their deadline (metrics, dashboard). */
  async overdueCount(): Promise<number> {
    const all = await Promise.all((await orderRepository.ids(this.deps.store.db)).map((id) => this.read(id)));
    return all.filter((o) => o.overdue).length;
  }
}

import type { Executor } from '../store/store.js';
import type { NodeId } from './merkle.js';
import type { NodeRecord } from './merkle-range.js';
import type { TreeHead } from './tree-head.js';

/** All SQL of the audit log. */
export interface EntryRow {
  seq: number;
  body: string;
  leaf_hash: Buffer;
}

const CHUNK = 400;

function chunks<T>(xs: readonly T[], n = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

export const auditRepository = {
  async size(ex: Executor): Promise<number> {
    const r = await ex
      .selectFrom('audit_entries')
      .select((eb) => eb.fn.max('seq').as('m'))
      .executeTakeFirst();
    return Number(r?.m ?? 0);
  },

  async leafHash(ex: Executor, seq: number): Promise<Buffer | undefined> {
    const r = await ex.selectFrom('audit_entries').select('leaf_hash').where('seq', '=', seq).executeTakeFirst();
    return r?.leaf_hash;
  },

  async nodes(ex: Executor, ids: readonly NodeId[]): Promise<Buffer[]> {
    if (!ids.length) return [];
    const found = new Map<string, Buffer>();
    for (const part of chunks(ids, 200)) {
      const rows = await ex
        .selectFrom('audit_nodes')
        .select(['level', 'idx', 'hash'])
        .where(({ eb, or, and }) => or(part.map((id) => and([eb('level', '=', id.level), eb('idx', '=', id.index)]))))
        .execute();
      for (const r of rows) found.set(`${r.level}/${Number(r.idx)}`, Buffer.from(r.hash));
    }
    return ids.map((id) => {
      const h = found.get(`${id.level}/${id.index}`);
      if (!h) throw new Error(`audit node ${id.level}/${id.index} is missing from the store`);
      return h;
    });
  },

  async insert(
    ex: Executor,
    entries: readonly (EntryRow & {
      time: string;
      action: string;
      actor_kind: string;
      actor_id: string;
      purpose_id: string | null;
      subject_ids: string;
    })[],
    nodes: readonly NodeRecord[],
  ): Promise<void> {
    for (const part of chunks(entries, 100)) await ex.insertInto('audit_entries').values(part).execute();
    for (const part of chunks(nodes))
      await ex
        .insertInto('audit_nodes')
        .values(part.map((n) => ({ level: n.level, idx: n.index, hash: n.hash })))
        .execute();
  },

  async entries(ex: Executor, from: number, to: number): Promise<EntryRow[]> {
    return ex
      .selectFrom('audit_entries')
      .select(['seq', 'body', 'leaf_hash'])
      .where('seq', '>=', from)
      .where('seq', '<=', to)
      .orderBy('seq')
      .execute();
  },

  async insertHead(ex: Executor, h: TreeHead): Promise<void> {
    await ex
      .insertInto('audit_heads')
      .values({
        size: h.size,
        key_id: h.keyId,
        root_hash: h.rootHash,
        timestamp: h.timestamp,
        signature: h.signature,
        next_key_id: h.nextKeyId ?? null,
      })
      .onConflict((oc) => oc.columns(['size', 'key_id']).doNothing())
      .execute();
  },

  async latestHead(ex: Executor, keyId?: string): Promise<TreeHead | undefined> {
    let q = ex.selectFrom('audit_heads').selectAll().orderBy('size', 'desc').orderBy('timestamp', 'desc').limit(1);
    if (keyId) q = q.where('key_id', '=', keyId);
    const r = await q.executeTakeFirst();
    return r && toHead(r);
  },

  async heads(ex: Executor, fromSize: number, toSize: number): Promise<TreeHead[]> {
    const rows = await ex
      .selectFrom('audit_heads')
      .selectAll()
      .where('size', '>=', fromSize)
      .where('size', '<=', toSize)
      .orderBy('size')
      .orderBy('key_id')
      .execute();
    return rows.map(toHead);
  },

  async keys(ex: Executor) {
    return ex.selectFrom('audit_keys').selectAll().orderBy('created_at').execute();
  },

  async addKey(ex: Executor, keyId: string, publicKey: string, createdAt: string): Promise<void> {
    await ex
      .insertInto('audit_keys')
      .values({ key_id: keyId, public_key: publicKey, created_at: createdAt, retired_at: null })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .execute();
  },

  async retireKey(ex: Executor, keyId: string, at: string): Promise<void> {
    await ex.updateTable('audit_keys').set({ retired_at: at }).where('key_id', '=', keyId).execute();
  },
  /** Entries newest first, filtered (the auditor's browser); `cursor` is the highest seq to return. */
  async search(
    ex: Executor,
    q: {
      subject?: string | undefined;
      purpose?: string | undefined;
      actor?: string | undefined;
      from?: string | undefined;
      to?: string | undefined;
      cursor?: number | undefined;
      limit: number;
    },
  ): Promise<{ seq: number; body: string }[]> {
    let b = ex.selectFrom('audit_entries').select(['seq', 'body']).orderBy('seq', 'desc').limit(q.limit);
    if (q.cursor) b = b.where('seq', '<=', q.cursor);
    if (q.subject) b = b.where('subject_ids', 'like', `% ${q.subject} %`);
    if (q.purpose) b = b.where('purpose_id', '=', q.purpose);
    if (q.actor) b = b.where('actor_id', '=', q.actor);
    if (q.from) b = b.where('time', '>=', q.from);
    if (q.to) b = b.where('time', '<=', q.to);
    return (await b.execute()).map((r) => ({ seq: Number(r.seq), body: r.body }));
  },
};

function toHead(r: {
  size: number;
  key_id: string;
  root_hash: string;
  timestamp: string;
  signature: string;
  next_key_id: string | null;
}): TreeHead {
  const h = {
    size: Number(r.size),
    keyId: r.key_id,
    rootHash: r.root_hash,
    timestamp: r.timestamp,
    signature: r.signature,
  };
  return r.next_key_id ? { ...h, nextKeyId: r.next_key_id } : h;
}

import { z } from 'zod';
import { formNumber, route } from '../route.js';
import { TreeHeadDoc } from '../schemas.js';
import { ROLES } from '../../auth/api-keys.js';
import { verifyExport } from '../../audit/verify.js';

const readers = ['auditor', 'dpo'] as const;

export const auditRoutes = [
  route({
    method: 'GET',
    url: '/v1/audit/pubkey',
    tag: 'audit',
    summary: 'The audit signing public key',
    auth: 'public',
    response: z.object({ keyId: z.string(), publicKey: z.string() }),
    handler: async ({ veil }) => ({ keyId: veil.audit.keyId, publicKey: veil.audit.publicKeyPem }),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/head',
    tag: 'audit',
    summary: 'The latest signed tree head (signed now if entries arrived since)',
    auth: readers,
    response: TreeHeadDoc,
    handler: async ({ veil, req, reply }) => {
      const h = await veil.store.transaction((tx) => veil.audit.latestHead(tx));
      const etag = `"${h.size}-${h.rootHash.slice(0, 16)}"`;
      reply.header('etag', etag);
      if (req.headers['if-none-match'] === etag) return reply.code(304).send();
      return h;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/audit/proof/:seq',
    tag: 'audit',
    summary: 'Inclusion proof of an entry against the latest signed head',
    auth: readers,
    params: z.object({ seq: formNumber().int().min(1) }),
    response: z.object({
      seq: z.number(),
      leafIndex: z.number(),
      leafHash: z.string(),
      entry: z.record(z.string(), z.unknown()),
      treeSize: z.number(),
      proof: z.array(z.string()),
      head: TreeHeadDoc,
    }),
    handler: async ({ veil, params }) => veil.store.transaction((tx) => veil.audit.inclusionProof(tx, params.seq)),
  }),
  route({
    method: 'POST',
    url: '/v1/audit/verify',
    tag: 'audit',
    summary: 'Verify the whole log now with the standalone verifier (the console button)',
    auth: readers,
    response: z.record(z.string(), z.unknown()),
    handler: async ({ veil }) => {
      const lines: string[] = [];
      for await (const l of veil.audit.exportLines(veil.store.db)) lines.push(JSON.stringify(l));
      const t0 = performance.now();
      const r = verifyExport(lines, { trustedPublicKeys: [veil.audit.publicKeyPem] });
      return { ...r, ms: Math.round(performance.now() - t0) };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/audit/consistency',
    tag: 'audit',
    summary: 'Consistency proof between tree sizes',
    auth: readers,
    query: z.object({ from: formNumber().int().min(1), to: formNumber().int().min(1) }),
    response: z.object({ from: z.number(), to: z.number(), proof: z.array(z.string()) }),
    handler: async ({ veil, query }) => ({
      from: query.from,
      to: query.to,
      proof: await veil.audit.consistencyProof(veil.store.db, query.from, query.to),
    }),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/entries',
    tag: 'audit',
    summary: 'Entries, filterable by subject, purpose, actor and time (cursor = next seq)',
    auth: readers,
    query: z.object({
      subject: z.string().optional(),
      purpose: z.string().optional(),
      actor: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
      cursor: formNumber().int().min(1).optional(),
      limit: formNumber().int().min(1).max(500).default(100),
    }),
    response: z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }),
    handler: async ({ veil, query }) => {
      let q = veil.store.db
        .selectFrom('audit_entries')
        .select(['seq', 'body'])
        .orderBy('seq', 'desc')
        .limit(query.limit + 1);
      if (query.cursor) q = q.where('seq', '<=', query.cursor);
      if (query.subject) q = q.where('subject_ids', 'like', `% ${query.subject} %`);
      if (query.purpose) q = q.where('purpose_id', '=', query.purpose);
      if (query.actor) q = q.where('actor_id', '=', query.actor);
      if (query.from) q = q.where('time', '>=', query.from);
      if (query.to) q = q.where('time', '<=', query.to);
      const rows = await q.execute();
      const more = rows.length > query.limit;
      return {
        items: rows.slice(0, query.limit).map((r) => JSON.parse(r.body)),
        nextCursor: more ? String(rows[query.limit]!.seq) : null,
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/audit/export',
    tag: 'audit',
    summary: 'Export as JSON lines (entries, signed heads, public keys) for offline verification',
    auth: readers,
    query: z.object({ from: formNumber().int().min(1).optional(), to: formNumber().int().min(0).optional() }),
    produces: 'application/x-ndjson',
    handler: async ({ veil, query, reply, actor }) => {
      const lines: string[] = [];
      await veil.store.transaction(async (tx) => {
        for await (const l of veil.audit.exportLines(tx, query.from ?? 1, query.to)) lines.push(JSON.stringify(l));
        await veil.audit.append(tx, { actor, action: 'audit.exported', detail: { lines: lines.length } });
      });
      reply.header('content-type', 'application/x-ndjson');
      return lines.join('\n') + '\n';
    },
  }),
  route({
    method: 'POST',
    url: '/v1/keys',
    tag: 'keys',
    summary: 'Create an API key (the token is shown once)',
    auth: ['admin'],
    status: 201,
    idempotent: true,
    body: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES), purposes: z.array(z.string()).min(1) }),
    response: z.object({ key: z.record(z.string(), z.unknown()), token: z.string() }),
    handler: async ({ veil, body, actor }) => veil.apiKeys.create(body, actor),
  }),
  route({
    method: 'GET',
    url: '/v1/keys',
    tag: 'keys',
    summary: 'API keys (never their secrets)',
    auth: ['admin'],
    response: z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.null() }),
    handler: async ({ veil }) => ({ items: await veil.apiKeys.list(), nextCursor: null }),
  }),
  route({
    method: 'DELETE',
    url: '/v1/keys/:id',
    tag: 'keys',
    summary: 'Revoke an API key',
    auth: ['admin'],
    params: z.object({ id: z.string() }),
    response: z.object({ revoked: z.string() }),
    handler: async ({ veil, params, actor }) => (await veil.apiKeys.revoke(params.id, actor), { revoked: params.id }),
  }),
];

import { z } from 'zod';
import { formNumber, route } from '../route.js';
import { ApiKeyDoc, AuditEntryDoc, TreeHeadDoc } from './schemas.js';
import { ROLES } from '../../auth/actor.js';

export const auditRoutes = [
  route({
    method: 'GET',
    url: '/v1/audit/pubkey',
    tag: 'audit',
    summary: 'The audit signing public key',
    access: 'public',
    response: z.object({ keyId: z.string(), publicKey: z.string() }),
    handler: async ({ services }) => services.audit.publicKey(),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/head',
    tag: 'audit',
    summary: 'The latest signed tree head (signed now if entries arrived since)',
    access: 'key',
    response: TreeHeadDoc,
    handler: async ({ services, actor, req, reply }) => {
      const h = await services.audit.head(actor);
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
    access: 'key',
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
    handler: async ({ services, actor, params }) => services.audit.proof(actor, params.seq),
  }),
  route({
    method: 'POST',
    url: '/v1/audit/verify',
    tag: 'audit',
    summary: 'Verify the whole log now with the standalone verifier (the console button)',
    access: 'key',
    response: z.record(z.string(), z.unknown()),
    handler: async ({ services, actor }) => services.audit.verify(actor),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/consistency',
    tag: 'audit',
    summary: 'Consistency proof between tree sizes',
    access: 'key',
    query: z.object({ from: formNumber().int().min(1), to: formNumber().int().min(1) }),
    response: z.object({ from: z.number(), to: z.number(), proof: z.array(z.string()) }),
    handler: async ({ services, actor, query }) => ({
      from: query.from,
      to: query.to,
      proof: await services.audit.consistency(actor, query.from, query.to),
    }),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/entries',
    tag: 'audit',
    summary: 'Entries, filterable by subject, purpose, actor and time (cursor = next seq)',
    access: 'key',
    query: z.object({
      subject: z.string().optional(),
      purpose: z.string().optional(),
      actor: z.string().optional(),
      from: z.string().optional(),
      to: z.string().optional(),
      cursor: formNumber().int().min(1).optional(),
      limit: formNumber().int().min(1).max(500).default(100),
    }),
    response: z.object({ items: z.array(AuditEntryDoc), nextCursor: z.string().nullable() }),
    handler: async ({ services, actor, query }) => services.audit.entries(actor, query),
  }),
  route({
    method: 'GET',
    url: '/v1/audit/export',
    tag: 'audit',
    summary: 'Export as JSON lines (entries, signed heads, public keys) for offline verification',
    access: 'key',
    query: z.object({ from: formNumber().int().min(1).optional(), to: formNumber().int().min(0).optional() }),
    produces: 'application/x-ndjson',
    handler: async ({ services, actor, query, reply }) => {
      const lines = await services.audit.export(actor, query.from, query.to);
      reply.header('content-type', 'application/x-ndjson');
      return lines.join('\n') + '\n';
    },
  }),
  route({
    method: 'POST',
    url: '/v1/keys',
    tag: 'keys',
    summary: 'Create an API key (the token is shown once)',
    access: 'key',
    status: 201,
    idempotent: true,
    secretAnswer: true,
    body: z.object({ name: z.string().min(1).max(100), role: z.enum(ROLES), purposes: z.array(z.string()).min(1) }),
    response: z.object({ key: z.record(z.string(), z.unknown()), token: z.string() }),
    handler: async ({ services, actor, body }) => services.apiKeys.create(actor, body),
  }),
  route({
    method: 'GET',
    url: '/v1/keys',
    tag: 'keys',
    summary: 'API keys (never their secrets)',
    access: 'key',
    response: z.object({ items: z.array(ApiKeyDoc), nextCursor: z.null() }),
    handler: async ({ services, actor }) => ({ items: await services.apiKeys.list(actor), nextCursor: null }),
  }),
  route({
    method: 'DELETE',
    url: '/v1/keys/:id',
    tag: 'keys',
    summary: 'Revoke an API key',
    access: 'key',
    params: z.object({ id: z.string() }),
    response: z.object({ revoked: z.string() }),
    handler: async ({ services, actor, params }) => (
      await services.apiKeys.revoke(actor, params.id),
      { revoked: params.id }
    ),
  }),
];

import { z } from 'zod';
import { route } from '../route.js';
import { ropaMarkdown } from '../../oversight/ropa.js';
import { OrderInputSchema, ActionInputSchema } from '../../oversight/orders.service.js';
import { BreachInputSchema } from '../../oversight/breaches.service.js';

const Any = z.record(z.string(), z.unknown());
const Id = z.object({ id: z.string() });

export const oversightRoutes = [
  route({
    method: 'GET',
    url: '/v1/oversight/ropa',
    tag: 'oversight',
    summary: 'Record of processing (Art. 30): JSON with DPV terms, or Markdown with format=md',
    auth: ['dpo', 'auditor'],
    query: z.object({ format: z.enum(['json', 'md']).default('json') }),
    response: Any,
    handler: async ({ veil, query, reply }) => {
      const r = await veil.ropa();
      if (query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(ropaMarkdown(r));
      return r;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/dpia/:purpose',
    tag: 'oversight',
    summary: 'DPIA draft (Art. 35) for a purpose, as Markdown',
    auth: ['dpo'],
    params: z.object({ purpose: z.string() }),
    produces: 'text/markdown',
    handler: async ({ veil, params, reply }) =>
      reply.type('text/markdown; charset=utf-8').send(await veil.dpia(params.purpose)),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/retention/run',
    tag: 'oversight',
    summary: 'Run the retention job now (dryRun lists what would go)',
    auth: ['dpo'],
    body: z.object({ dryRun: z.boolean().default(true) }).default({ dryRun: true }),
    response: Any,
    handler: async ({ veil, body }) => veil.retention.run({ dryRun: body.dryRun }),
  }),
  route({
    method: 'GET',
    url: '/v1/retention-schedule',
    tag: 'oversight',
    summary: 'The public retention schedule (BIPA s.15(a))',
    auth: 'public',
    response: z.object({ items: z.array(Any) }),
    handler: async ({ veil }) => ({ items: await veil.retention.schedule() }),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/orders',
    tag: 'oversight',
    summary: "Record a supervisory authority's order",
    auth: ['dpo'],
    body: OrderInputSchema,
    response: Any,
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor }) => veil.orders.record(body, actor),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/orders',
    tag: 'oversight',
    summary: 'Orders with deadlines (overdue=true for late ones)',
    auth: ['dpo', 'auditor'],
    query: z.object({ overdue: z.enum(['true', 'false']).optional() }),
    response: z.object({ items: z.array(Any), nextCursor: z.null() }),
    handler: async ({ veil, query }) => ({
      items: await veil.orders.list({ ...(query.overdue === 'true' ? { overdue: true } : {}) }),
      nextCursor: null,
    }),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/orders/:id/actions',
    tag: 'oversight',
    summary: 'Link an action to an order (suspending a purpose takes effect at once)',
    auth: ['dpo'],
    params: Id,
    body: ActionInputSchema,
    response: Any,
    handler: async ({ veil, params, body, actor }) => veil.orders.act(params.id, body, actor),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/orders/:id/bundle',
    tag: 'oversight',
    summary: 'Signed evidence bundle (ZIP) for an order',
    auth: ['dpo'],
    params: Id,
    produces: 'application/zip',
    handler: async ({ veil, params, actor, reply }) => {
      const zip = await veil.orders.bundle(params.id, actor);
      return reply
        .type('application/zip')
        .header('content-disposition', `attachment; filename="${params.id}-evidence.zip"`)
        .send(zip);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/breaches',
    tag: 'oversight',
    summary: 'Record a personal-data breach; the 72-hour clock starts at discovery',
    auth: ['dpo'],
    body: BreachInputSchema,
    response: Any,
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor }) => veil.breaches.record(body, actor),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/breaches/:id/notify',
    tag: 'oversight',
    summary: 'Record the notification to the authority',
    auth: ['dpo'],
    params: Id,
    body: z.object({ reference: z.string().min(1) }),
    response: Any,
    handler: async ({ veil, params, body, actor }) => veil.breaches.notify(params.id, body.reference, actor),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/breaches',
    tag: 'oversight',
    summary: 'The breach register',
    auth: ['dpo', 'auditor'],
    query: z.object({ overdue: z.enum(['true', 'false']).optional() }),
    response: z.object({ items: z.array(Any), nextCursor: z.null() }),
    handler: async ({ veil, query }) => ({
      items: await veil.breaches.list({ ...(query.overdue === 'true' ? { overdue: true } : {}) }),
      nextCursor: null,
    }),
  }),
];

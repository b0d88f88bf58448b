import { z } from 'zod';
import { route } from '../route.js';
import { BreachDoc, OrderDoc, ScheduleDoc } from './schemas.js';
import { ropaMarkdown } from '../../oversight/ropa.js';
import { OrderInputSchema, ActionInputSchema } from '../../oversight/orders.service.js';
import { BreachInputSchema } from '../../oversight/breaches.service.js';

const Any = z.record(z.string(), z.unknown());
const Id = z.object({ id: z.string() });
const Overdue = z.object({ overdue: z.enum(['true', 'false']).optional() });

export const oversightRoutes = [
  route({
    method: 'GET',
    url: '/v1/oversight/ropa',
    tag: 'oversight',
    summary: 'Record of processing (Art. 30): JSON with DPV terms, or Markdown with format=md',
    access: 'key',
    query: z.object({ format: z.enum(['json', 'md']).default('json') }),
    response: Any,
    handler: async ({ services, actor, query, reply }) => {
      const r = await services.records.ropa(actor);
      if (query.format === 'md') return reply.type('text/markdown; charset=utf-8').send(ropaMarkdown(r));
      return r;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/dpia/:purpose',
    tag: 'oversight',
    summary: 'DPIA draft (Art. 35) for a purpose, as Markdown',
    access: 'key',
    params: z.object({ purpose: z.string() }),
    produces: 'text/markdown',
    handler: async ({ services, actor, params, reply }) =>
      reply.type('text/markdown; charset=utf-8').send(await services.records.dpia(actor, params.purpose)),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/retention/run',
    tag: 'oversight',
    summary: 'Run the retention job now (dryRun lists what would go)',
    access: 'key',
    body: z.object({ dryRun: z.boolean().default(true) }).default({ dryRun: true }),
    response: Any,
    handler: async ({ services, actor, body }) => services.retention.run(actor, { dryRun: body.dryRun }),
  }),
  route({
    method: 'GET',
    url: '/v1/retention-schedule',
    tag: 'oversight',
    summary: 'The public retention schedule (BIPA s.15(a))',
    access: 'public',
    response: z.object({ items: z.array(ScheduleDoc) }),
    handler: async ({ services }) => ({ items: await services.retention.schedule() }),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/orders',
    tag: 'oversight',
    summary: "Record a supervisory authority's order",
    access: 'key',
    body: OrderInputSchema,
    response: Any,
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body }) => services.orders.record(actor, body),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/orders',
    tag: 'oversight',
    summary: 'Orders with deadlines (overdue=true for late ones)',
    access: 'key',
    query: Overdue,
    response: z.object({ items: z.array(OrderDoc), nextCursor: z.null() }),
    handler: async ({ services, actor, query }) => ({
      items: await services.orders.list(actor, { overdue: query.overdue === 'true' }),
      nextCursor: null,
    }),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/orders/:id/actions',
    tag: 'oversight',
    summary: 'Link an action to an order (suspending a purpose takes effect at once)',
    access: 'key',
    params: Id,
    body: ActionInputSchema,
    response: Any,
    handler: async ({ services, actor, params, body }) => services.orders.act(actor, params.id, body),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/orders/:id/bundle',
    tag: 'oversight',
    summary: 'Signed evidence bundle (ZIP) for an order',
    access: 'key',
    params: Id,
    produces: 'application/zip',
    handler: async ({ services, actor, params, reply }) => {
      const zip = await services.orders.bundle(actor, params.id);
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
    access: 'key',
    body: BreachInputSchema,
    response: Any,
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body }) => services.breaches.record(actor, body),
  }),
  route({
    method: 'POST',
    url: '/v1/oversight/breaches/:id/notify',
    tag: 'oversight',
    summary: 'Record the notification to the authority',
    access: 'key',
    params: Id,
    body: z.object({ reference: z.string().min(1) }),
    response: Any,
    handler: async ({ services, actor, params, body }) => services.breaches.notify(actor, params.id, body.reference),
  }),
  route({
    method: 'GET',
    url: '/v1/oversight/breaches',
    tag: 'oversight',
    summary: 'The breach register',
    access: 'key',
    query: Overdue,
    response: z.object({ items: z.array(BreachDoc), nextCursor: z.null() }),
    handler: async ({ services, actor, query }) => ({
      items: await services.breaches.list(actor, { overdue: query.overdue === 'true' }),
      nextCursor: null,
    }),
  }),
];

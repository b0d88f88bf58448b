import { z } from 'zod';
import { ImageInput, formNumber, route } from '../route.js';
import { RightsRequestDoc } from '../schemas.js';
import { SubmitSchema } from '../../rights/rights.service.js';
import { daysLeft, isOverdue, type RightsRequest } from '../../rights/request.js';

function doc(r: RightsRequest, now: Date) {
  return { ...r, daysLeft: daysLeft(r, now), overdue: isOverdue(r, now) };
}

const Id = z.object({ id: z.string() });

export const rightsRoutes = [
  route({
    method: 'POST',
    url: '/v1/rights/requests',
    tag: 'rights (public)',
    summary: 'File a rights request; a code is emailed. Reveals nothing about enrollment.',
    auth: 'public',
    body: SubmitSchema,
    response: z.object({ requestId: z.string(), dueAt: z.string(), state: z.string() }),
    status: 202,
    handler: async ({ veil, body }) => veil.rights.submit(body),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/verify',
    tag: 'rights (public)',
    summary: 'Verify with the emailed code and optional selfie(s); returns a token for the results',
    auth: 'public',
    params: Id,
    body: z.object({
      code: z.string().max(12),
      selfie: ImageInput.optional(),
      selfies: z.array(ImageInput).max(3).optional(),
    }),
    response: z.object({ state: z.string(), subjectsFound: z.number(), downloadToken: z.string() }),
    handler: async ({ veil, params, body }) =>
      veil.rights.verify(params.id, {
        code: body.code,
        selfies: [...(body.selfie ? [body.selfie] : []), ...(body.selfies ?? [])],
      }),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/resend',
    tag: 'rights (public)',
    summary: 'Send a new verification code',
    auth: 'public',
    params: Id,
    response: z.object({ sent: z.boolean() }),
    status: 202,
    handler: async ({ veil, params }) => (await veil.rights.resendCode(params.id), { sent: true }),
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id/result',
    tag: 'rights (public)',
    summary: 'State and outcome (certificate, counts) for the verified requester',
    auth: 'public',
    params: Id,
    query: z.object({ token: z.string() }),
    response: z.object({
      state: z.string(),
      kind: z.string(),
      outcome: z.record(z.string(), z.unknown()).nullable(),
      dueAt: z.string(),
    }),
    handler: async ({ veil, params, query }) => veil.rights.outcomeFor(params.id, query.token),
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id/download',
    tag: 'rights (public)',
    summary: 'The access ZIP or portability JSON, for the verified requester',
    auth: 'public',
    params: Id,
    query: z.object({ token: z.string() }),
    produces: 'application/zip',
    handler: async ({ veil, params, query, reply }) => {
      const d = await veil.rights.download(params.id, query.token);
      const zip = d.kind === 'access-export';
      reply
        .header('content-type', zip ? 'application/zip' : 'application/json')
        .header('content-disposition', `attachment; filename="${params.id}.${zip ? 'zip' : 'json'}"`);
      return d.bytes;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests',
    tag: 'rights',
    summary: 'The rights queue (cursor-paginated); overdue=true for the late ones',
    auth: ['dpo'],
    query: z.object({
      overdue: z.enum(['true', 'false']).optional(),
      open: z.enum(['true', 'false']).optional(),
      cursor: z.string().optional(),
      limit: formNumber().int().min(1).max(200).default(50),
    }),
    response: z.object({
      items: z.array(RightsRequestDoc),
      nextCursor: z.string().nullable(),
      open: z.number(),
      overdue: z.number(),
    }),
    handler: async ({ veil, query }) => {
      const all = await veil.rights.list({
        ...(query.overdue === 'true' ? { overdue: true } : {}),
        ...(query.open === 'true' ? { open: true } : {}),
      });
      const start = query.cursor
        ? all.findIndex((r) => r.id === Buffer.from(query.cursor!, 'base64url').toString()) + 1
        : 0;
      const page = all.slice(start, start + query.limit);
      const now = veil.clock.now();
      const more = start + query.limit < all.length;
      return {
        items: page.map((r) => doc(r, now)),
        nextCursor: more ? Buffer.from(page.at(-1)!.id).toString('base64url') : null,
        ...(await veil.rights.counts()),
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id',
    tag: 'rights',
    summary: 'One request with its history',
    auth: ['dpo'],
    params: Id,
    response: RightsRequestDoc,
    handler: async ({ veil, params }) => doc(await veil.rights.get(params.id), veil.clock.now()),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/extend',
    tag: 'rights',
    summary: 'Extend by 1-2 months with a reason (once, before the deadline)',
    auth: ['dpo'],
    params: Id,
    body: z.object({ months: formNumber().int().min(1).max(2), reason: z.string().min(10) }),
    response: RightsRequestDoc,
    handler: async ({ veil, params, body, actor }) =>
      doc(await veil.rights.extend(params.id, body.months, body.reason, actor), veil.clock.now()),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/fulfil',
    tag: 'rights',
    summary: 'Carry out a verified request',
    auth: ['dpo'],
    params: Id,
    body: z
      .object({
        suppress: z.boolean().optional(),
        newEmail: z.string().email().optional(),
        removeTemplateIds: z.array(z.string()).optional(),
      })
      .default({}),
    response: z.object({ request: RightsRequestDoc, certificate: z.record(z.string(), z.unknown()).nullable() }),
    handler: async ({ veil, params, body, actor }) => {
      const r = await veil.rights.fulfil(params.id, actor, body);
      return { request: doc(r.request, veil.clock.now()), certificate: r.certificate ?? null };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/deny',
    tag: 'rights',
    summary: 'Deny with a reason and its legal ground',
    auth: ['dpo'],
    params: Id,
    body: z.object({ reason: z.string().min(5), ground: z.string().min(3) }),
    response: RightsRequestDoc,
    handler: async ({ veil, params, body, actor }) =>
      doc(await veil.rights.deny(params.id, body.reason, body.ground, actor), veil.clock.now()),
  }),
];

import { Readable } from 'node:stream';
import { z } from 'zod';
import { ImageInput, formNumber, route, visible } from '../route.js';
import { RightsRequestDoc } from './schemas.js';
import { SubmitSchema } from '../../rights/intake.service.js';

const Id = z.object({ id: z.string() });
const Token = z.object({ token: z.string().max(200) });
const PublicOutcome = z.object({
  state: z.string(),
  kind: z.string(),
  outcome: z.record(z.string(), z.unknown()).nullable(),
  dueAt: z.string(),
  review: z.enum(['pending', 'done']).nullable(),
});
const FulfilBody = z.object({
  suppress: z.boolean().optional(),
  newEmail: z.string().email().optional(),
  removeTemplateIds: z.array(z.string()).optional(),
});

export const rightsRoutes = [
  route({
    method: 'POST',
    url: '/v1/rights/requests',
    tag: 'rights (public)',
    summary: 'File a rights request; a code is emailed. Reveals nothing about enrollment.',
    access: 'public',
    body: SubmitSchema,
    response: z.object({ requestId: z.string(), dueAt: z.string(), state: z.string() }),
    status: 202,
    handler: async ({ services, body }) => services.rights.intake.submit(body),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/verify',
    tag: 'rights (public)',
    summary:
      'Verify with the emailed code and optional selfie(s); returns a token for the results. The answer is the same whatever the selfie matched.',
    access: 'public',
    photo: true,
    params: Id,
    body: z.object({
      code: z.string().max(12),
      selfie: ImageInput.optional(),
      selfies: z.array(ImageInput).max(3).optional(),
    }),
    response: z.object({ state: z.string(), downloadToken: z.string() }),
    handler: async ({ services, params, body, images }) =>
      services.rights.intake.verify(
        params.id,
        { code: body.code, selfies: [...(body.selfie ? [body.selfie] : []), ...(body.selfies ?? [])] },
        images,
      ),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/resend',
    tag: 'rights (public)',
    summary: 'Send a new verification code (a few times per request, and per address per hour)',
    access: 'public',
    params: Id,
    response: z.object({ sent: z.boolean() }),
    status: 202,
    handler: async ({ services, params }) => (await services.rights.intake.resendCode(params.id), { sent: true }),
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id/result',
    tag: 'rights (public)',
    summary: 'State and outcome (certificate, counts) for the verified requester',
    access: 'public',
    params: Id,
    query: Token,
    response: PublicOutcome,
    handler: async ({ services, params, query }) => services.rights.self.outcome(params.id, query.token),
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id/download',
    tag: 'rights (public)',
    summary: 'The access ZIP or portability JSON, for the verified requester',
    access: 'public',
    params: Id,
    query: Token,
    produces: 'application/zip',
    handler: async ({ services, params, query, reply }) => {
      const d = await services.rights.self.downloadStream(params.id, query.token);
      const zip = d.kind === 'access-export';
      reply
        .header('content-type', zip ? 'application/zip' : 'application/json')
        .header('content-disposition', `attachment; filename="${params.id}.${zip ? 'zip' : 'json'}"`);
      return Readable.from(d.chunks);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/self-service',
    tag: 'rights (public)',
    summary:
      'Answer a verified access or portability request at once for what the proven address links; a search by face follows after review',
    access: 'public',
    params: Id,
    body: Token,
    response: PublicOutcome,
    handler: async ({ services, params, body }) => services.rights.self.answer(params.id, body.token),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/actions',
    tag: 'rights (public)',
    summary:
      "One-click action after verification (erase, restrict, object, withdraw consent) for what needs no review; 'contest' files a contest of the identifications that returned the person, for the DPO",
    access: 'public',
    params: Id,
    body: Token.extend({ kind: z.enum(['erasure', 'restriction', 'objection', 'withdraw-consent', 'contest']) }),
    response: z.object({
      requestId: z.string(),
      downloadToken: z.string(),
      state: z.string(),
      outcome: z.record(z.string(), z.unknown()).nullable(),
      review: z.enum(['pending', 'done']).nullable(),
      certificate: z.record(z.string(), z.unknown()).nullable(),
    }),
    handler: async ({ services, params, body }) => {
      const r = await services.rights.self.followUp(params.id, body.token, body.kind);
      const review = r.request.review
        ? r.request.review.state === 'pending'
          ? ('pending' as const)
          : ('done' as const)
        : null;
      return {
        requestId: r.requestId,
        downloadToken: r.downloadToken,
        state: r.request.state,
        outcome: r.request.outcome,
        review,
        certificate: r.certificate ?? null,
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests',
    tag: 'rights',
    summary:
      'The rights queue (cursor-paginated); overdue=true for the late ones, review=true for those waiting on the DPO',
    access: 'key',
    query: z.object({
      overdue: z.enum(['true', 'false']).optional(),
      open: z.enum(['true', 'false']).optional(),
      review: z.enum(['true', 'false']).optional(),
      cursor: z.string().optional(),
      limit: formNumber().int().min(1).max(200).default(50),
    }),
    response: z.object({
      items: z.array(RightsRequestDoc),
      nextCursor: z.string().nullable(),
      open: z.number(),
      overdue: z.number(),
      awaitingReview: z.number(),
    }),
    handler: async ({ services, actor, query }) => {
      const all = await services.rights.queue.list(actor, {
        overdue: query.overdue === 'true',
        open: query.open === 'true',
        review: query.review === 'true',
      });
      const start = query.cursor
        ? all.findIndex((r) => r.id === Buffer.from(query.cursor!, 'base64url').toString()) + 1
        : 0;
      const page = all.slice(start, start + query.limit);
      const more = start + query.limit < all.length;
      return {
        items: page.map((r) => services.rights.queue.view(r)),
        nextCursor: more ? Buffer.from(page.at(-1)!.id).toString('base64url') : null,
        ...(await services.rights.queue.counts()),
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/rights/requests/:id',
    tag: 'rights',
    summary: 'One request with its history and what waits for review',
    access: 'key',
    params: Id,
    response: RightsRequestDoc,
    handler: async ({ services, actor, params }) =>
      services.rights.queue.view(await services.rights.queue.get(actor, params.id)),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/extend',
    tag: 'rights',
    summary: 'Extend by 1-2 months with a reason (once, before the deadline)',
    access: 'key',
    params: Id,
    body: z.object({
      months: formNumber().int().min(1).max(2),
      reason: z.string().min(10, 'give the person a reason of at least 10 characters'),
    }),
    response: RightsRequestDoc,
    handler: async ({ services, actor, params, body }) =>
      services.rights.queue.view(await services.rights.queue.extend(actor, params.id, body.months, body.reason)),
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/review',
    tag: 'rights',
    summary:
      'Decide on subjects found by face, or held under another basis than consent, after looking at the evidence',
    access: 'key',
    params: Id,
    body: z.object({
      decision: z.enum(['approve', 'reject']),
      subjects: z.array(z.string()).optional(),
      note: visible(2000),
    }),
    response: z.object({ request: RightsRequestDoc, certificate: z.record(z.string(), z.unknown()).nullable() }),
    handler: async ({ services, actor, params, body }) => {
      const r = await services.rights.queue.review(actor, params.id, body);
      return { request: services.rights.queue.view(r.request), certificate: r.certificate ?? null };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/fulfil',
    tag: 'rights',
    summary: 'Carry out a verified request (its review, if any, decided)',
    access: 'key',
    params: Id,
    body: FulfilBody.default({}),
    response: z.object({ request: RightsRequestDoc, certificate: z.record(z.string(), z.unknown()).nullable() }),
    handler: async ({ services, actor, params, body }) => {
      const r = await services.rights.queue.fulfil(actor, params.id, body);
      return { request: services.rights.queue.view(r.request), certificate: r.certificate ?? null };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/rights/requests/:id/deny',
    tag: 'rights',
    summary: 'Deny with a reason and its legal ground',
    access: 'key',
    params: Id,
    body: z.object({ reason: visible(5000), ground: visible(500) }),
    response: RightsRequestDoc,
    handler: async ({ services, actor, params, body }) =>
      services.rights.queue.view(await services.rights.queue.deny(actor, params.id, body.reason, body.ground)),
  }),
];

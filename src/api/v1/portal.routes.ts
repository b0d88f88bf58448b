import { z } from 'zod';
import { ImageInput, route } from '../route.js';

const Lang = z.enum(['en', 'fr']).default('en');
const Id = z.object({ id: z.string() });

/** The people's side: public, rate-limited, and never revealing whether someone is enrolled. */
export const portalRoutes = [
  route({
    method: 'GET',
    url: '/v1/portal/purposes',
    tag: 'portal (public)',
    summary: 'Purposes open to consent, with the notice shown before consenting',
    access: 'public',
    query: z.object({ lang: Lang }),
    response: z.object({
      items: z.array(
        z.object({
          key: z.string(),
          name: z.string(),
          description: z.string(),
          retention: z.string(),
          recipients: z.array(z.string()),
          notice: z.string(),
          noticeVersion: z.string(),
          controller: z.string(),
        }),
      ),
    }),
    handler: async ({ services, query }) => ({ items: await services.portal.purposes(query.lang) }),
  }),
  route({
    method: 'POST',
    url: '/v1/portal/enroll',
    tag: 'portal (public)',
    summary: 'Start enrolling: a code is emailed to prove the address before any face is taken',
    access: 'public',
    status: 202,
    body: z.object({ purpose: z.string().max(100), email: z.string().email().max(320), language: Lang }),
    response: z.object({ enrollmentId: z.string() }),
    handler: async ({ services, body }) => services.portal.start(body),
  }),
  route({
    method: 'POST',
    url: '/v1/portal/enroll/:id/confirm',
    tag: 'portal (public)',
    summary:
      'Finish enrolling: the emailed code, consent (the separate, unticked checkbox) and a selfie; returns the signed receipt',
    access: 'public',
    photo: true,
    status: 201,
    params: Id,
    body: z.object({
      code: z.string().max(12),
      consent: z.union([z.literal(true), z.literal('true')]),
      selfie: ImageInput,
    }),
    response: z.object({
      subjectId: z.string(),
      consentId: z.string(),
      receipt: z.record(z.string(), z.unknown()),
      quality: z.record(z.string(), z.number()),
    }),
    handler: async ({ services, params, body, images }) => services.portal.confirm(params.id, body, images),
  }),
  route({
    method: 'GET',
    url: '/v1/portal/held',
    tag: 'portal',
    summary: 'Portal enrollments held for review (the face is on the do-not-enroll list)',
    access: 'key',
    response: z.object({
      items: z.array(
        z.object({ id: z.string(), purposeId: z.string(), consentId: z.string().nullable(), createdAt: z.string() }),
      ),
    }),
    handler: async ({ services, actor }) => ({ items: await services.portal.held(actor) }),
  }),
  route({
    method: 'POST',
    url: '/v1/portal/held/:id',
    tag: 'portal',
    summary: 'Decide a held portal enrollment: withdraw its consent, or keep it while the person is contacted',
    access: 'key',
    params: Id,
    body: z.object({ decision: z.enum(['withdraw', 'keep']), note: z.string().min(5).max(2000) }),
    response: z.object({ id: z.string(), state: z.string() }),
    handler: async ({ services, actor, params, body }) =>
      services.portal.decide(actor, params.id, body.decision, body.note),
  }),
  route({
    method: 'GET',
    url: '/v1/stats',
    tag: 'oversight',
    summary: 'Dashboard figures: gallery sizes, searches per day, rights queue, handling times',
    access: 'key',
    response: z.record(z.string(), z.unknown()),
    handler: async ({ services, actor }) => services.records.stats(actor),
  }),
];

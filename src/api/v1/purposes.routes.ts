import { z } from 'zod';
import { route } from '../route.js';
import { Page, PurposeDoc } from './schemas.js';
import { PurposeInputSchema } from '../../privacy/purpose.js';
import { MAX_CONFIRMATIONS } from '../../gallery/match-confirmation.js';
import { FPIR_LIMITS } from '../../gallery/open-set.js';

const Ref = z.object({ purpose: z.string() });

export const purposeRoutes = [
  route({
    method: 'POST',
    url: '/v1/purposes',
    tag: 'purposes',
    summary: 'Declare a processing purpose with its lawful basis',
    access: 'key',
    body: PurposeInputSchema,
    response: PurposeDoc,
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body }) => services.purposes.create(actor, body),
  }),
  route({
    method: 'GET',
    url: '/v1/purposes',
    tag: 'purposes',
    summary: 'Purposes this key may use, with gallery sizes',
    access: 'key',
    response: Page(PurposeDoc),
    handler: async ({ services, actor }) => ({ items: await services.purposes.list(actor), nextCursor: null }),
  }),
  route({
    method: 'GET',
    url: '/v1/purposes/:purpose',
    tag: 'purposes',
    summary: 'One purpose',
    access: 'key',
    params: Ref,
    response: PurposeDoc,
    handler: async ({ services, actor, params }) => services.purposes.get(actor, params.purpose),
  }),
  route({
    method: 'PATCH',
    url: '/v1/purposes/:purpose',
    tag: 'purposes',
    summary: "Change a purpose's target FPIR (admin bound to the purpose; audited with old and new value)",
    access: 'key',
    params: Ref,
    body: z
      .object({
        fpir: z.number().meta({ description: `Between ${FPIR_LIMITS.min} and ${FPIR_LIMITS.max}` }),
      })
      .strict(),
    response: PurposeDoc,
    handler: async ({ services, actor, params, body }) => services.purposes.setFpir(actor, params.purpose, body.fpir),
  }),
  route({
    method: 'POST',
    url: '/v1/purposes/:purpose/suspend',
    tag: 'purposes',
    summary: 'Suspend (or resume) all processing under a purpose',
    access: 'key',
    params: Ref,
    body: z.object({ suspended: z.boolean(), reason: z.string().min(3) }),
    response: PurposeDoc,
    handler: async ({ services, actor, params, body }) =>
      services.purposes.setSuspended(actor, params.purpose, body.suspended, body.reason),
  }),
  route({
    method: 'POST',
    url: '/v1/purposes/:purpose/confirmations',
    tag: 'purposes',
    summary:
      'Set how many different people must confirm each identification before it counts (EU AI Act Art. 14(5); 0: none); admin bound to the purpose, audited. 409 CONFLICT on a purpose whose photos already name people (sightings nobody confirmed)',
    access: 'key',
    params: Ref,
    body: z.object({
      confirmations: z.number().int().min(0).max(MAX_CONFIRMATIONS),
      reason: z.string().min(3).max(2000),
    }),
    response: PurposeDoc,
    handler: async ({ services, actor, params, body }) =>
      services.purposes.setConfirmations(actor, params.purpose, body),
  }),
];

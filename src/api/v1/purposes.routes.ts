import { z } from 'zod';
import { route } from '../route.js';
import { Page, PurposeDoc } from './schemas.js';
import { PurposeInputSchema } from '../../privacy/purpose.js';

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
];

import { z } from 'zod';
import { route } from '../route.js';
import { Page, PurposeDoc } from '../schemas.js';
import { PurposeInputSchema } from '../../privacy/purpose.js';
import { mayUsePurpose } from '../../auth/api-keys.js';

export const purposeRoutes = [
  route({
    method: 'POST',
    url: '/v1/purposes',
    tag: 'purposes',
    summary: 'Declare a processing purpose with its lawful basis',
    auth: ['dpo'],
    body: PurposeInputSchema,
    response: PurposeDoc,
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor }) => veil.purposes.create(body, actor),
  }),
  route({
    method: 'GET',
    url: '/v1/purposes',
    tag: 'purposes',
    summary: 'Purposes this key may use, with gallery sizes',
    auth: ['operator', 'investigator', 'dpo', 'auditor'],
    response: Page(PurposeDoc),
    handler: async ({ veil, key }) => ({
      items: (await veil.purposes.list())
        .filter((p) => key!.role === 'dpo' || key!.role === 'auditor' || mayUsePurpose(key!, p.key, p.id))
        .map((p) => ({ ...p, templates: veil.index.size(p.id) })),
      nextCursor: null,
    }),
  }),
  route({
    method: 'GET',
    url: '/v1/purposes/:purpose',
    tag: 'purposes',
    summary: 'One purpose',
    auth: ['operator', 'investigator', 'dpo', 'auditor'],
    params: z.object({ purpose: z.string() }),
    response: PurposeDoc,
    handler: async ({ veil, params, purpose }) => ({
      ...(await purpose(params.purpose)),
      templates: veil.index.size((await purpose(params.purpose)).id),
    }),
  }),
  route({
    method: 'POST',
    url: '/v1/purposes/:purpose/suspend',
    tag: 'purposes',
    summary: 'Suspend (or resume) all processing under a purpose',
    auth: ['dpo'],
    params: z.object({ purpose: z.string() }),
    body: z.object({ suspended: z.boolean(), reason: z.string().min(3) }),
    response: PurposeDoc,
    handler: async ({ veil, params, body, actor }) =>
      veil.purposes.setSuspended(params.purpose, body.suspended, actor, body.reason),
  }),
];

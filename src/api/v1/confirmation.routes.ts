import { z } from 'zod';
import { formNumber, route } from '../route.js';
import { ConfirmationDoc } from './schemas.js';

/** One candidate of one face of one identification. */
const Match = z.object({
  searchId: z.string().max(100),
  face: formNumber().int().min(0).max(100),
  subjectId: z.string().max(100),
});

const Decision = z.object({
  by: z.string().meta({ description: 'The deciding actor: kind and id (api-key:key_...)' }),
  role: z.string(),
  decision: z.enum(['confirm', 'reject']),
  at: z.string(),
  requestId: z.string().nullable().meta({ description: "The person's contest whose fulfilment rejected the match" }),
});

export const MatchDoc = z.object({
  face: z.number(),
  subjectId: z.string(),
  rank: z.number(),
  similarity: z.number(),
  confirmation: ConfirmationDoc,
  decisions: z.array(Decision),
});

const decide = (decision: 'confirm' | 'reject') =>
  route({
    method: 'POST',
    url: `/v1/searches/:searchId/faces/:face/candidates/:subjectId/${decision}`,
    tag: 'gallery',
    summary:
      decision === 'confirm'
        ? 'Confirm a match (EU AI Act Art. 14(5)): under a two-person purpose it counts once that many different keys confirmed it; the same key twice counts once'
        : 'Reject a match: one rejection makes it rejected for good',
    access: 'key',
    params: Match,
    body: z.object({}).strict().optional(),
    response: MatchDoc,
    handler: async ({ services, actor, params }) =>
      decision === 'confirm' ? services.search.confirmMatch(actor, params) : services.search.rejectMatch(actor, params),
  });

export const confirmationRoutes = [
  decide('confirm'),
  decide('reject'),
  route({
    method: 'GET',
    url: '/v1/searches/:searchId/confirmations',
    tag: 'gallery',
    summary: "An identification's matches with their confirmation state and who confirmed or rejected each",
    access: 'key',
    params: z.object({ searchId: z.string().max(100) }),
    response: z.object({ searchId: z.string(), purpose: z.string(), at: z.string(), matches: z.array(MatchDoc) }),
    handler: async ({ services, actor, params }) => services.search.confirmations(actor, params.searchId),
  }),
];

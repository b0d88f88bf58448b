import { z } from 'zod';
import { route } from '../route.js';

const Id = z.object({ id: z.string() });

/** Thumbnails for the console: decrypted only for a key bound to the purpose, each view audited. */
export const subjectPhotoRoutes = [
  route({
    method: 'GET',
    url: '/v1/subjects/:id/photo',
    tag: 'subjects',
    summary:
      'A thumbnail of a kept enrollment photo (image/jpeg), only where the purpose keeps photos; 404 where none is kept',
    access: 'key',
    params: Id,
    query: z.object({ template: z.string().max(100).optional(), purpose: z.string().max(100).optional() }),
    produces: 'image/jpeg',
    handler: async ({ services, actor, params, query, reply }) => {
      const jpeg = await services.subjects.photo(actor, params.id, query);
      reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store');
      return jpeg;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/subjects/:id/sightings/:sighting/photo',
    tag: 'subjects',
    summary: "The subject's face in a photo they were matched in, every other face blurred (image/jpeg)",
    access: 'key',
    params: z.object({ id: z.string(), sighting: z.string() }),
    produces: 'image/jpeg',
    handler: async ({ services, actor, params, reply }) => {
      const jpeg = await services.subjects.sightingPhoto(actor, params.id, params.sighting);
      reply.header('content-type', 'image/jpeg').header('cache-control', 'no-store');
      return jpeg;
    },
  }),
];

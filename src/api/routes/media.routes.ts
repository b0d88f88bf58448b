import { z } from 'zod';
import { ImageInput, route } from '../route.js';
import { IngestDoc } from '../schemas.js';
import { VeilError } from '../../errors.js';

export const mediaRoutes = [
  route({
    method: 'POST',
    url: '/v1/media',
    tag: 'media',
    summary: 'Ingest one operator photo: matches become sightings, other faces keep only a box',
    auth: ['operator'],
    body: z.object({ purpose: z.string(), image: ImageInput, filename: z.string().max(200).default('upload.jpg') }),
    response: IngestDoc,
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor, purpose }) => {
      await purpose(body.purpose);
      return veil.ingest.ingest(body.purpose, { name: body.filename, bytes: body.image }, actor);
    },
  }),
  route({
    method: 'GET',
    url: '/v1/media/:id/faces',
    tag: 'media',
    summary: 'Faces in a photo: boxes, and the subject for sightings',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.null() }),
    handler: async ({ veil, params, purpose }) => {
      const m = await veil.store.db
        .selectFrom('media')
        .select('purpose_id')
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!m) throw new VeilError('NOT_FOUND', `No media '${params.id}'.`);
      await purpose(m.purpose_id);
      return { items: await veil.ingest.faces(params.id), nextCursor: null };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/media/:id/redacted',
    tag: 'media',
    summary: 'The photo with every face blurred except consenting matches (image/jpeg)',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    produces: 'image/jpeg',
    handler: async ({ veil, params, actor, reply, purpose }) => {
      const m = await veil.store.db
        .selectFrom('media')
        .select('purpose_id')
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!m) throw new VeilError('NOT_FOUND', `No media '${params.id}'.`);
      await purpose(m.purpose_id);
      const r = await veil.ingest.redact(params.id, actor);
      reply.header('content-type', 'image/jpeg').header('x-faces-blurred', String(r.blurred));
      return r.jpeg;
    },
  }),
];

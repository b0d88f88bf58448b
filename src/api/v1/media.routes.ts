import { z } from 'zod';
import { ImageInput, formNumber, route } from '../route.js';
import { IngestDoc, MediaFaceDoc } from './schemas.js';
import { VeilError } from '../../errors.js';

const Id = z.object({ id: z.string() });

/** An ingested photo in a listing: never the image, nor whose faces are in it. */
const MediaSummaryDoc = z.object({
  id: z.string(),
  purpose: z.string(),
  filename: z.string(),
  width: z.number(),
  height: z.number(),
  ingestedAt: z.string(),
  faces: z.number(),
  sightings: z.number(),
});

export const mediaRoutes = [
  route({
    method: 'POST',
    url: '/v1/media',
    tag: 'media',
    summary: 'Ingest one operator photo: matches become sightings, other faces keep only a box',
    access: 'key',
    photo: true,
    body: z.object({ purpose: z.string(), image: ImageInput, filename: z.string().max(200).default('upload.jpg') }),
    response: IngestDoc,
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body, images }) => {
      const r = await services.media.ingest(actor, body.purpose, { name: body.filename, bytes: body.image }, images);
      // A photo that could not be read is the caller's error, not a created thing.
      if (r.status === 'failed') throw new VeilError(r.code as never, r.message);
      return r;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/media',
    tag: 'media',
    summary: "Ingested photos of this key's purposes (or of one), oldest first: the media ids redaction takes",
    access: 'key',
    query: z.object({
      purpose: z.string().max(100).optional(),
      cursor: z.string().max(500).optional(),
      limit: formNumber().int().min(1).max(500).default(50),
    }),
    response: z.object({ items: z.array(MediaSummaryDoc), nextCursor: z.string().nullable() }),
    handler: async ({ services, actor, query }) => services.media.list(actor, query),
  }),
  route({
    method: 'GET',
    url: '/v1/media/:id/faces',
    tag: 'media',
    summary: 'Faces in a photo: boxes, and the subject for sightings',
    access: 'key',
    params: Id,
    response: z.object({ items: z.array(MediaFaceDoc), nextCursor: z.null() }),
    handler: async ({ services, actor, params }) => ({
      items: await services.media.faces(actor, params.id),
      nextCursor: null,
    }),
  }),
  route({
    method: 'GET',
    url: '/v1/media/:id/redacted',
    tag: 'media',
    summary: 'The photo with every face blurred except consenting matches (image/jpeg)',
    access: 'key',
    params: Id,
    produces: 'image/jpeg',
    handler: async ({ services, actor, params, reply }) => {
      const r = await services.media.redact(actor, params.id);
      reply.header('content-type', 'image/jpeg').header('x-faces-blurred', String(r.blurred));
      return r.jpeg;
    },
  }),
];

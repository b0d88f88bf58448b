import { z } from 'zod';
import { route } from '../route.js';
import { num } from '../../compreface/lenient.js';
import { AnyQuery, ImageBody, Name, query } from './params.js';

const P = '/api/v1/recognition';
const SubjectParam = z.object({ subject: z.string() });
const ImageParam = z.object({ image_id: z.string() });

/** CompreFace's face collection: subjects (names) and faces (examples). */
export const collectionRoutes = [
  route({
    method: 'POST',
    url: `${P}/subjects`,
    summary: 'Add a subject (a name, no face yet)',
    tag: 'compreface',
    access: 'key',
    body: Name,
    status: 201,
    handler: ({ services, actor, body }) => services.compreface.collection.addSubject(actor, body.subject),
  }),
  ...[`${P}/subjects`, `${P}/subjects/`].map((url) =>
    route({
      method: 'GET',
      url,
      summary: 'List subjects',
      tag: 'compreface',
      access: 'key',
      handler: ({ services, actor }) => services.compreface.collection.listSubjects(actor),
    }),
  ),
  route({
    method: 'PUT',
    url: `${P}/subjects/:subject`,
    summary: 'Rename a subject (never a merge)',
    tag: 'compreface',
    access: 'key',
    params: SubjectParam,
    body: Name,
    handler: ({ services, actor, params, body }) =>
      services.compreface.collection.renameSubject(actor, params.subject, body.subject),
  }),
  route({
    method: 'DELETE',
    url: `${P}/subjects/:subject`,
    summary: "Delete a subject: this purpose's name, faces and enrollment (erasure when no other purpose holds them)",
    tag: 'compreface',
    access: 'key',
    params: SubjectParam,
    handler: ({ services, actor, params }) => services.compreface.collection.deleteSubject(actor, params.subject),
  }),
  route({
    method: 'DELETE',
    url: `${P}/subjects`,
    summary: 'Delete every subject of the purpose (admin-bound key)',
    tag: 'compreface',
    access: 'key',
    handler: ({ services, actor }) => services.compreface.collection.deleteAllSubjects(actor),
  }),
  route({
    method: 'POST',
    url: `${P}/faces`,
    summary: 'Add a face to a subject (consent or the key’s source reference)',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    body: ImageBody,
    status: 201,
    photo: true,
    handler: ({ services, actor, body, req, images }) =>
      services.compreface.collection.addFace(actor, query(req)['subject'] ?? '', body.file, images),
  }),
  route({
    method: 'GET',
    url: `${P}/faces`,
    summary: 'List faces',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    handler: ({ services, actor, req }) => {
      const q = query(req);
      return services.compreface.collection.listFaces(actor, {
        page: num(q['page']),
        size: num(q['size']),
        subject: q['subject'] || undefined,
      });
    },
  }),
  route({
    method: 'DELETE',
    url: `${P}/faces`,
    summary: "Delete a subject's faces (with subject), or every face of the purpose (admin-bound key)",
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    handler: ({ services, actor, req }) => services.compreface.collection.deleteFaces(actor, query(req)['subject']),
  }),
  route({
    method: 'POST',
    url: `${P}/faces/delete`,
    summary: 'Delete faces by id',
    tag: 'compreface',
    access: 'key',
    body: z.array(z.string()).max(1000),
    handler: async ({ services, actor, body }) => ({
      deleted: await services.compreface.collection.deleteFacesById(actor, body),
    }),
  }),
  route({
    method: 'DELETE',
    url: `${P}/faces/:image_id`,
    summary: 'Delete a face',
    tag: 'compreface',
    access: 'key',
    params: ImageParam,
    handler: ({ services, actor, params }) => services.compreface.collection.deleteFace(actor, params.image_id),
  }),
  route({
    method: 'GET',
    url: `${P}/faces/:image_id/img`,
    summary: 'A kept photo of a face (only where the purpose keeps photos), as JPEG',
    tag: 'compreface',
    access: 'key',
    params: ImageParam,
    produces: 'image/jpeg',
    handler: async ({ services, actor, params, reply }) => {
      const jpeg = await services.compreface.collection.faceImage(actor, params.image_id);
      reply.type('image/jpeg').header('cache-control', 'no-store');
      return Buffer.from(jpeg);
    },
  }),
];

import { z } from 'zod';
import { route } from '../route.js';
import { AnyQuery, ImageBody, TwoImages, faceOptions, query } from './params.js';
import { compreFaceOpenApi } from './openapi.js';

/** Recognition, verification against a stored face, detection and two-photo verification. */
export const recognitionRoutes = [
  route({
    method: 'POST',
    url: '/api/v1/recognition/recognize',
    summary: 'Recognize every face in a photo',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    body: ImageBody,
    photo: true,
    handler: ({ services, actor, body, req, images }) =>
      services.compreface.recognition.recognize(actor, body.file, faceOptions(query(req)), images),
  }),
  route({
    method: 'POST',
    url: '/api/v1/recognition/faces/:image_id/verify',
    summary: 'Verify a photo against the subject of a stored face',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    params: z.object({ image_id: z.string() }),
    body: ImageBody,
    photo: true,
    handler: ({ services, actor, body, params, req, images }) =>
      services.compreface.recognition.verifyAgainst(actor, params.image_id, body.file, faceOptions(query(req)), images),
  }),
  route({
    method: 'POST',
    url: '/api/v1/detection/detect',
    summary: 'Detect faces',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    body: ImageBody,
    photo: true,
    handler: ({ services, actor, body, req, images }) =>
      services.compreface.recognition.detect(actor, body.file, faceOptions(query(req)), images),
  }),
  route({
    method: 'POST',
    url: '/api/v1/verification/verify',
    summary: 'Compare the faces of two photos',
    tag: 'compreface',
    access: 'key',
    query: AnyQuery,
    body: TwoImages,
    photo: true,
    handler: ({ services, actor, body, req, images }) =>
      services.compreface.recognition.verification(
        actor,
        body.source_image,
        body.target_image,
        faceOptions(query(req)),
        images,
      ),
  }),
  route({
    method: 'GET',
    url: '/api/v1/openapi.json',
    summary: 'The OpenAPI 3.1 document of this compatibility surface',
    tag: 'compreface',
    access: 'public',
    handler: async () => compreFaceOpenApi(),
  }),
];

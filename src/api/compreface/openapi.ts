/**
 * The OpenAPI 3.1 document of the CompreFace-compatible surface (`GET /api/v1/openapi.json`). Written
 * out rather than derived from the routes' zod schemas: CompreFace's shapes (lenient queries, answers
 * built by the services) are the contract here, and a client generator should see them as CompreFace
 * documents them.
 */
import { FACE_REF, SCHEMAS } from './openapi.schemas.js';

type Obj = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Obj) => ({ 'application/json': { schema } });
const int = { type: 'integer' };
const num = { type: 'number' };
const str = { type: 'string' };
const q = (name: string, schema: Obj, description: string) => ({
  name,
  in: 'query',
  required: false,
  schema,
  description,
});
const path = (name: string, description: string) => ({ name, in: 'path', required: true, schema: str, description });

const FACE_QUERY = [
  q('limit', int, 'Faces to cover, largest first; 0 for all.'),
  q('det_prob_threshold', num, 'Faces the detector scored below this are left out (0.0 to 1.0).'),
  q(
    'face_plugins',
    str,
    'Comma-separated plugins: landmarks, pose. Other names (age, gender, mask, calculator) are ignored.',
  ),
  q('status', { type: ['boolean', 'string'] }, 'true (or True, 1): execution_time and plugins_versions are added.'),
];

const ERRORS = {
  '400': {
    description: 'Invalid input, no face (code 28), several faces (31), consent required, subject exists (43)',
    content: json(ref('Error')),
  },
  '401': { description: 'Missing (code 20) or invalid key', content: json(ref('Error')) },
  '403': { description: 'The key may not do this (code 32)', content: json(ref('Error')) },
  '404': { description: 'Subject (code 42) or image (code 44) not found', content: json(ref('Error')) },
  '413': { description: 'The body is too large', content: json(ref('Error')) },
  '429': { description: 'Too many requests, or the face engine is busy', content: json(ref('Error')) },
};

const image = (fields: string[]) => ({
  required: true,
  content: {
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: fields,
        properties: Object.fromEntries(
          fields.map((f) => [f, { type: 'string', contentMediaType: 'application/octet-stream' }]),
        ),
      },
    },
    'application/json': {
      schema: {
        type: 'object',
        required: fields,
        properties: Object.fromEntries(fields.map((f) => [f, { type: 'string', contentEncoding: 'base64' }])),
      },
    },
  },
});

function op(id: string, summary: string, ok: Obj, extra: Obj = {}, status = '200'): Obj {
  return {
    operationId: id,
    summary,
    tags: ['compreface'],
    security: [{ apiKey: [] }],
    ...extra,
    responses: { [status]: { description: 'Success', ...ok }, ...ERRORS },
  };
}

const subjectBody = {
  required: true,
  content: json({ type: 'object', required: ['subject'], properties: { subject: str } }),
};
const faceRef = FACE_REF;

export function compreFaceOpenApi(): Obj {
  return {
    openapi: '3.1.0',
    info: {
      title: 'Veil: CompreFace-compatible API',
      version: '1.0.0',
      description:
        'A drop-in subset of the CompreFace REST API over Veil. Every call runs under the key’s one purpose and is audited; faces are added only with consent (or the key’s source reference); embeddings are never returned. See the README section "Coming from CompreFace" for every difference.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: '/' }],
    tags: [{ name: 'compreface', description: 'CompreFace-compatible recognition, detection and verification' }],
    paths: {
      '/api/v1/recognition/subjects': {
        post: op(
          'addSubject',
          'Add a subject',
          { content: json({ type: 'object', properties: { subject: str } }) },
          { requestBody: subjectBody },
          '201',
        ),
        get: op('listSubjects', 'List subjects', {
          content: json({ type: 'object', properties: { subjects: { type: 'array', items: str } } }),
        }),
        delete: op('deleteAllSubjects', 'Delete every subject (admin-bound key)', {
          content: json({ type: 'object', properties: { deleted: int } }),
        }),
      },
      '/api/v1/recognition/subjects/{subject}': {
        parameters: [path('subject', 'The subject name (case-insensitive)')],
        put: op(
          'renameSubject',
          'Rename a subject (a taken name is refused, never merged)',
          { content: json({ type: 'object', properties: { updated: { type: 'boolean' } } }) },
          { requestBody: subjectBody },
        ),
        delete: op('deleteSubject', 'Delete a subject', {
          content: json({ type: 'object', properties: { subject: str } }),
        }),
      },
      '/api/v1/recognition/faces': {
        post: op(
          'addFace',
          'Add a face to a subject',
          { content: json(faceRef) },
          {
            parameters: [
              q('subject', str, 'The subject name'),
              q('det_prob_threshold', num, 'Accepted; enrollment applies its own quality rules.'),
            ],
            requestBody: image(['file']),
          },
          '201',
        ),
        get: op(
          'listFaces',
          'List faces',
          { content: json(ref('FacePage')) },
          {
            parameters: [
              q('page', int, 'Page, from 0'),
              q('size', int, 'Page size (default 20)'),
              q('subject', str, 'Only this subject'),
            ],
          },
        ),
        delete: op(
          'deleteFaces',
          "Delete a subject's faces, or every face (admin-bound key)",
          { content: json({ type: 'object', properties: { deleted: int } }) },
          { parameters: [q('subject', str, 'The subject; absent: every face')] },
        ),
      },
      '/api/v1/recognition/faces/delete': {
        post: op(
          'deleteFacesById',
          'Delete faces by id',
          { content: json({ type: 'object', properties: { deleted: { type: 'array', items: faceRef } } }) },
          { requestBody: { required: true, content: json({ type: 'array', items: str }) } },
        ),
      },
      '/api/v1/recognition/faces/{image_id}': {
        parameters: [path('image_id', 'The face id')],
        delete: op('deleteFace', 'Delete a face', { content: json(faceRef) }),
      },
      '/api/v1/recognition/faces/{image_id}/img': {
        parameters: [path('image_id', 'The face id')],
        get: op('faceImage', 'A kept photo (only where the purpose keeps photos)', {
          content: { 'image/jpeg': { schema: { type: 'string', contentMediaType: 'image/jpeg' } } },
        }),
      },
      '/api/v1/recognition/recognize': {
        post: op(
          'recognize',
          'Recognize every face',
          { content: json(ref('Recognition')) },
          {
            parameters: [...FACE_QUERY, q('prediction_count', int, 'Subjects per face (default 1)')],
            requestBody: image(['file']),
          },
        ),
      },
      '/api/v1/recognition/faces/{image_id}/verify': {
        parameters: [path('image_id', 'The stored face')],
        post: op(
          'verifyFace',
          "Verify a photo against a stored face's subject",
          { content: json(ref('FaceVerification')) },
          { parameters: FACE_QUERY, requestBody: image(['file']) },
        ),
      },
      '/api/v1/detection/detect': {
        post: op(
          'detect',
          'Detect faces',
          { content: json(ref('Detection')) },
          { parameters: FACE_QUERY, requestBody: image(['file']) },
        ),
      },
      '/api/v1/verification/verify': {
        post: op(
          'verify',
          'Compare two photos',
          { content: json(ref('Verification')) },
          { parameters: FACE_QUERY, requestBody: image(['source_image', 'target_image']) },
        ),
      },
    },
    components: {
      securitySchemes: { apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' } },
      schemas: SCHEMAS,
    },
  };
}

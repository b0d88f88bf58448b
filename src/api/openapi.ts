import { z } from 'zod';
import type { RouteDef } from './route.js';

/** JSON Schema 2020-12 (what OpenAPI 3.1 speaks) from a zod schema, without the dialect line. */
export function jsonSchema(
  s: z.ZodType,
  io: 'input' | 'output',
  images: 'base64' | 'binary' = 'base64',
): Record<string, unknown> {
  const j = z.toJSONSchema(s, {
    io,
    target: 'draft-2020-12',
    unrepresentable: 'any',
    override: (ctx) => {
      // An image field is a union of base64 text and bytes; say which, for the body it travels in.
      const meta = z.globalRegistry.get(ctx.zodSchema) as { format?: string } | undefined;
      if (meta?.format === 'byte') {
        for (const k of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[k];
        Object.assign(
          ctx.jsonSchema,
          images === 'binary'
            ? {
                type: 'string',
                contentMediaType: 'application/octet-stream',
                description: 'Image file (JPEG, PNG, WebP; GIF and TIFF with a key)',
              }
            : {
                type: 'string',
                contentEncoding: 'base64',
                description: 'Image bytes as base64 (JPEG, PNG, WebP; GIF and TIFF with a key)',
              },
        );
      }
    },
  }) as Record<string, unknown>;
  delete j['$schema'];
  return j;
}

const ProblemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string', description: "Veil's stable error code, the same as the CLI prints" },
    instance: { type: 'string' },
    requestId: { type: 'string' },
  },
};

const PROBLEMS: Record<string, string> = {
  '400': 'The request is invalid (INVALID_INPUT, CODE_INVALID, CODE_EXPIRED)',
  '401': 'No valid API key (UNAUTHENTICATED)',
  '403': 'This key may not do this (FORBIDDEN)',
  '404': 'Not found, or not visible to this key (NOT_FOUND, UNKNOWN_PURPOSE, UNKNOWN_SUBJECT)',
  '409':
    'Conflicts with the current state (CONFLICT, INVALID_STATE, JOB_RUNNING, MODEL_MISMATCH, PURPOSE_SUSPENDED, SUBJECT_RESTRICTED, SUBJECT_SUPPRESSED)',
  '413': 'The body or image is too large (PAYLOAD_TOO_LARGE, IMAGE_TOO_LARGE)',
  '415': 'Not JSON or multipart, or not an accepted image format (UNSUPPORTED_MEDIA_TYPE, UNSUPPORTED_IMAGE_FORMAT)',
  '422':
    'The photo or the request cannot be processed (INVALID_IMAGE, NO_FACE, MULTIPLE_FACES, LOW_QUALITY, CONSENT_REQUIRED, CASE_REF_REQUIRED, ...)',
  '429': 'Too many requests, or the engine is busy (RATE_LIMITED, ENGINE_OVERLOADED); see Retry-After',
  '503': 'Try again shortly (ENGINE_TIMEOUT, DATABASE_UNAVAILABLE, SCHEMA_OUTDATED, SHUTTING_DOWN)',
};

/** The problems an operation can answer, from what it takes: a key, parameters, a body, a photo. */
function problemsOf(r: RouteDef): string[] {
  const out = ['400'];
  if (r.access === 'key') out.push('401', '403');
  if (r.params) out.push('404');
  if (r.method !== 'GET') out.push('409', '413', '415');
  if (r.photo) out.push('422');
  if (r.access !== 'key' || r.photo) out.push('429');
  out.push('503');
  return out;
}

/** Multipart fields arrive as text or files: images as files, everything else as text. */
function multipartSchema(body: Record<string, unknown>): Record<string, unknown> {
  const props = (body['properties'] ?? {}) as Record<string, Record<string, unknown>>;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(props)) {
    const isImage =
      v['contentEncoding'] === 'base64' ||
      (v['items'] as Record<string, unknown> | undefined)?.['contentEncoding'] === 'base64';
    if (isImage && v['type'] === 'array')
      out[k] = { type: 'array', items: { type: 'string', contentMediaType: 'application/octet-stream' } };
    else if (isImage) out[k] = { type: 'string', contentMediaType: 'application/octet-stream' };
    else out[k] = { type: 'string', ...(v['description'] ? { description: v['description'] } : {}) };
  }
  return { type: 'object', properties: out, ...(body['required'] ? { required: body['required'] } : {}) };
}

/** OpenAPI 3.1 from the same zod schemas that validate requests: one source of truth. */
export function openApiDocument(
  routes: readonly RouteDef[],
  version: string,
  info: { title?: string; description?: string } = {},
) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const js = jsonSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
    }
    if (r.idempotent)
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 200 },
      });
    const ok = r.produces
      ? { description: 'OK', content: { [r.produces]: { schema: { type: 'string', contentMediaType: r.produces } } } }
      : {
          description: 'OK',
          content: {
            'application/json': { schema: r.response ? jsonSchema(r.response, 'output') : { type: 'object' } },
          },
        };
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      security: r.access === 'key' ? [{ apiKey: [] }] : r.access === 'optional-key' ? [{}, { apiKey: [] }] : [],
      ...(parameters.length ? { parameters } : {}),
      responses: {
        [String(r.status ?? 200)]: ok,
        ...Object.fromEntries(problemsOf(r).map((s) => [s, { $ref: `#/components/responses/Problem${s}` }])),
      },
    };
    if (r.body) {
      const json = jsonSchema(r.body, 'input');
      op['requestBody'] = {
        required: true,
        content: {
          'application/json': { schema: json },
          ...(r.photo ? { 'multipart/form-data': { schema: multipartSchema(json) } } : {}),
        },
      };
    }
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: info.title ?? 'Veil API',
      version,
      description:
        info.description ??
        'Face recognition that is lawful by construction: consent-gated gallery, rights by face, tamper-evident audit.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: 'http://127.0.0.1:8080', description: 'The embedded default (veil serve)' }],
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'veil_<id>_<secret>' } },
      schemas: { Problem: ProblemSchema },
      responses: Object.fromEntries(
        Object.entries(PROBLEMS).map(([s, d]) => [
          `Problem${s}`,
          {
            description: d,
            content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
          },
        ]),
      ),
    },
    paths,
  };
}

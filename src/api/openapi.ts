import { z } from 'zod';
import type { RouteDef } from './route.js';

const toSchema = (s: z.ZodType, io: 'input' | 'output') => {
  const j = z.toJSONSchema(s, { io, unrepresentable: 'any', target: 'openapi-3.0' }) as Record<string, unknown>;
  delete j['$schema'];
  return j;
};

const ProblemSchema = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    code: { type: 'string' },
    requestId: { type: 'string' },
  },
};

/** OpenAPI 3.1 from the same zod schemas that validate requests: one source of truth. */
export function openApiDocument(routes: readonly RouteDef[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const js = toSchema(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {}))
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}${path
        .replace(/[{}]/g, '')
        .replace(/\/(\w)/g, (_, c: string) => c.toUpperCase())
        .replace(/[^A-Za-z0-9]/g, '')}`,
      ...(r.access === 'key' ? { security: [{ apiKey: [] }] } : { security: [] }),
      ...(parameters.length ? { parameters } : {}),
      responses: {
        [String(r.status ?? 200)]: r.produces
          ? { description: 'OK', content: { [r.produces]: { schema: { type: 'string', format: 'binary' } } } }
          : {
              description: 'OK',
              content: { 'application/json': { schema: r.response ? toSchema(r.response, 'output') : {} } },
            },
        default: {
          description: 'Problem details (RFC 9457) with a stable code',
          content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
        },
      },
    };
    if (r.body) {
      const s = toSchema(r.body, 'input');
      op['requestBody'] = {
        required: true,
        content: { 'application/json': { schema: s }, 'multipart/form-data': { schema: s } },
      };
    }
    if (r.idempotent)
      op['parameters'] = [
        ...parameters,
        { name: 'Idempotency-Key', in: 'header', required: false, schema: { type: 'string', maxLength: 200 } },
      ];
    (paths[path] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Veil API',
      version,
      description:
        'Face recognition that is lawful by construction: consent-gated gallery, rights by face, tamper-evident audit.',
    },
    components: {
      securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'veil_<id>_<secret>' } },
      schemas: { Problem: ProblemSchema },
    },
    paths,
  };
}

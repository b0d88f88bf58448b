import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { z } from 'zod';
import type { Services } from '../app/veil.js';
import { actors, type Actor } from '../auth/actor.js';
import { VeilError, isVeilError, type ErrorCode } from '../errors.js';
import { describeIssues } from '../validation.js';
import { isDatabaseUnavailable } from '../store/errors.js';
import type { RouteDef } from './route.js';
import { clientKey } from '../ops/client-key.js';
import { rejectNul } from './nul.js';
import { RequestTiming, withTiming } from '../request-timing.js';
import { scrubbed } from '../privacy/told.js';

/** Public routes take the formats every phone and browser makes; operators' tools may also send GIF and TIFF. */
export const PUBLIC_FORMATS = ['jpeg', 'png', 'webp'] as const;
export const KEY_FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff'] as const;

export interface SurfaceLimits {
  /** Authenticated bodies. */
  readonly bodyBytes: number;
  /** A public photo, as a file part (a base64 JSON body may be a third larger). */
  readonly publicPhotoBytes: number;
  /** Public JSON without a photo. */
  readonly publicJsonBytes: number;
  readonly publicPerIpPerMinute: number;
}

/** How one API surface answers: its own credentials, its own error shape. */
export interface Surface {
  readonly name: string;
  readonly routes: readonly RouteDef[];
  /** The bearer of the request's credentials, read from headers only (the body is not read yet). */
  credential(req: FastifyRequest): string | undefined;
  /** Parsers this surface's routes need beyond JSON and multipart (registered in its scope only). */
  setup?(scope: FastifyInstance): void;
  /** An error as this surface's clients expect it. */
  render(
    code: ErrorCode,
    message: string,
    req: FastifyRequest,
    extra: Record<string, unknown>,
  ): { status: number; body: unknown; type: string };
}

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    handling: boolean;
    /** Stage times for the Server-Timing header (VEIL_SERVER_TIMING), else null. */
    timing: RequestTiming | null;
  }
}

/** What went wrong, as a domain code: every error any layer throws ends up as one of these. */
export function errorCode(
  e: Error & { code?: string; statusCode?: number },
  req: FastifyRequest,
): { code: ErrorCode; message: string; extra: Record<string, unknown> } {
  if (isVeilError(e))
    return {
      code: e.code,
      message: e.message,
      extra: {
        ...(e.details?.['retryAfterSeconds'] ? { retryAfterSeconds: e.details['retryAfterSeconds'] } : {}),
        ...(typeof e.details?.['fatal'] === 'boolean' ? { fatal: e.details['fatal'] } : {}),
        ...(typeof e.details?.['runId'] === 'string' ? { runId: e.details['runId'] } : {}),
      },
    };
  if (isDatabaseUnavailable(e))
    return {
      code: 'DATABASE_UNAVAILABLE',
      message: 'The database is unavailable for a moment; nothing was changed. Retry shortly.',
      extra: {},
    };
  if (e.statusCode === 429) return { code: 'RATE_LIMITED', message: 'Too many requests; slow down.', extra: {} };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413) {
    return { code: 'PAYLOAD_TOO_LARGE', message: 'The request body is larger than this route accepts.', extra: {} };
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415)
    return { code: 'UNSUPPORTED_MEDIA_TYPE', message: 'Send JSON or multipart/form-data.', extra: {} };
  if (e.statusCode && e.statusCode < 500) return { code: 'INVALID_INPUT', message: e.message, extra: {} };
  // A body the multipart reader could not make sense of (cut short, broken boundaries) is the client's.
  if (!req.handling && req.isMultipart?.())
    return { code: 'INVALID_INPUT', message: 'The multipart body is malformed.', extra: {} };
  return { code: 'INTERNAL', message: 'Something went wrong on our side; the request id helps us find it.', extra: {} };
}

const parse = <T extends z.ZodType>(schema: T | undefined, v: unknown, where: string): unknown => {
  if (!schema) return v;
  const res = schema.safeParse(v ?? (where === 'body' ? {} : v));
  if (!res.success) throw new VeilError('INVALID_INPUT', describeIssues(res.error.issues, where));
  return res.data;
};

/**
 * Registers one surface's routes in its own encapsulated context: credentials are checked and
 * public callers rate-limited before any body is read, bodies are bounded per route, inputs are
 * refused if any string holds a NUL (nul.ts) and validated with the route's zod schemas, and
 * every error is rendered in the surface's shape.
 */
export async function registerSurface(
  app: FastifyInstance,
  surface: Surface,
  services: Services,
  limits: SurfaceLimits,
  serverTiming = false,
): Promise<void> {
  await app.register(async (scope) => {
    surface.setup?.(scope);
    if (serverTiming) scope.addHook('onSend', serverTimingHeader);
    scope.setErrorHandler((err, req, reply) => {
      const e = errorCode(err as Error & { code?: string; statusCode?: number }, req);
      const r = surface.render(e.code, e.message, req, e.extra);
      if (r.status >= 500)
        req.log.error(
          {
            reqId: req.id,
            code: e.code,
            err: { message: scrubbed((err as Error).message ?? ''), code: (err as { code?: string }).code },
          },
          'request failed',
        );
      const retry = e.extra['retryAfterSeconds'];
      if (retry || e.code === 'ENGINE_OVERLOADED' || e.code === 'RATE_LIMITED' || e.code === 'DATABASE_UNAVAILABLE')
        reply.header('retry-after', String(retry ?? 1));
      reply.code(r.status).type(r.type).send(r.body);
    });
    for (const r of surface.routes) {
      const open = r.access !== 'key';
      const fileBytes = open ? limits.publicPhotoBytes : limits.bodyBytes;
      const bodyLimit = !open
        ? limits.bodyBytes
        : r.photo
          ? Math.ceil(limits.publicPhotoBytes * 1.37) + 65_536
          : limits.publicJsonBytes;
      scope.route({
        method: r.method,
        url: r.url,
        bodyLimit,
        config: {
          multipartOptions: {
            limits: {
              fileSize: fileBytes,
              files: open ? 4 : 10,
              fields: open ? 10 : 30,
              fieldSize: open ? 65_536 : 1_048_576,
            },
          },
        },
        onRequest: async (req) => {
          if (serverTiming) req.timing = new RequestTiming();
          if (open) boundPublicMultipart(req, r, bodyLimit);
          req.actor = await caller(r, surface, services, req, limits);
          req.timing?.lap('auth');
        },
        handler: async (req, reply) => {
          req.handling = true;
          const actor = req.actor!;
          req.timing?.lap('body');
          rejectNul({ params: req.params, query: req.query, body: req.body });
          const ctx = {
            services,
            actor,
            body: parse(r.body, req.body, 'body'),
            query: parse(r.query, req.query, 'query'),
            params: parse(r.params, req.params, 'params'),
            images: { formats: open ? [...PUBLIC_FORMATS] : [...KEY_FORMATS] },
            req,
            reply,
          };
          const idem = r.idempotent && actor.kind === 'api-key' ? req.headers['idempotency-key'] : undefined;
          if (typeof idem === 'string' && idem) return idempotent(r, ctx, idem, actor, services, reply);
          if (req.timing) return timedHandler(req.timing, r, ctx, reply);
          const result = await r.handler(ctx as never);
          if (reply.sent) return reply;
          return reply.code(r.status ?? 200).send(result);
        },
      });
    }
  });
}

/** A route's handler with request timing on: validation so far, the handler's stages, then serialisation. */
async function timedHandler(t: RequestTiming, r: RouteDef, ctx: unknown, reply: FastifyReply): Promise<unknown> {
  t.lap('validate');
  const result = await withTiming(t, () => r.handler(ctx as never));
  t.restart();
  if (reply.sent) return reply;
  return reply.code(r.status ?? 200).send(result);
}

/** `Server-Timing` on every answer of a timed request; `serialize` is the time since its handler returned. */
async function serverTimingHeader(req: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
  if (req.timing && !reply.hasHeader('server-timing')) {
    req.timing.lap('serialize');
    reply.header('server-timing', req.timing.header());
  }
  return payload;
}

/**
 * The multipart reader buffers every part and ignores the route's body limit, so on the public
 * routes (no key, so no one to hold to account) multipart is taken only where a photo is, and only
 * with a declared length within the route's limit: a stranger cannot make the process hold more
 * than the JSON body limit allows.
 */
function boundPublicMultipart(req: FastifyRequest, r: RouteDef, bodyLimit: number): void {
  // isMultipart() is only known once the body parser ran; the header is known now.
  if (!/^multipart\//i.test(req.headers['content-type'] ?? '')) return;
  if (!r.photo)
    throw new VeilError('UNSUPPORTED_MEDIA_TYPE', 'This route takes a JSON body; multipart is only for photos.');
  const length = Number(req.headers['content-length']);
  if (!Number.isFinite(length) || length <= 0)
    throw new VeilError('INVALID_INPUT', 'A multipart body needs a Content-Length header on this route.');
  if (length > bodyLimit)
    throw new VeilError(
      'PAYLOAD_TOO_LARGE',
      `The request body is larger than this route accepts (${bodyLimit} bytes).`,
      {
        limit: bodyLimit,
      },
    );
}

/** The caller, decided from headers alone before the body is read. */
async function caller(
  r: RouteDef,
  surface: Surface,
  services: Services,
  req: FastifyRequest,
  limits: SurfaceLimits,
): Promise<Actor> {
  const token = surface.credential(req);
  const guard = { ip: clientKey(req.ip), limiter: services.limiter };
  if (r.access === 'agent') return services.rights.agents.authenticate(token, guard);
  if (r.access === 'key' || (r.access === 'optional-key' && token)) return services.apiKeys.authenticate(token, guard);
  // One address cannot flood the public routes; the count is shared by every process.
  await services.limiter.take(`ip:${surface.name}`, clientKey(req.ip), limits.publicPerIpPerMinute, 60_000);
  return actors.public();
}

async function idempotent(
  r: RouteDef,
  ctx: Parameters<RouteDef['handler']>[0],
  idem: string,
  actor: Actor,
  services: Services,
  reply: FastifyReply,
) {
  const scope = [actor.id, `${r.method} ${r.url}`, idem];
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify(ctx.req.body ?? null, (_k, v) =>
        Buffer.isBuffer(v) ? createHash('sha256').update(v).digest('hex') : v,
      ),
    )
    .digest('hex');
  const claim = await services.idempotency.claim(scope, fingerprint);
  if (claim.kind === 'replay') return reply.code(claim.status).header('idempotent-replay', 'true').send(claim.body);
  let result: unknown;
  try {
    result = await r.handler(ctx as never);
  } catch (e) {
    await services.idempotency.abandon(scope);
    throw e;
  }
  await services.idempotency.answer(scope, r.status ?? 200, result, Boolean(r.secretAnswer));
  return reply.code(r.status ?? 200).send(result);
}

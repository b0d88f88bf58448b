import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { z } from 'zod';
import type { Veil } from '../app/veil.js';
import type { ApiKey } from '../auth/api-keys.js';
import { mayUsePurpose } from '../auth/api-keys.js';
import type { Actor } from '../audit/entry.js';
import { VeilError, isVeilError, type ErrorCode } from '../errors.js';
import { problem } from './problem.js';
import { requireRole, type FaceDetector, type RouteContext, type RouteDef } from './route.js';
import { openApiDocument } from './openapi.js';
import { Metrics } from './metrics.js';
import { isDatabaseUnavailable } from '../store/errors.js';
import { purposeRoutes } from './routes/purposes.routes.js';
import { galleryRoutes } from './routes/gallery.routes.js';
import { mediaRoutes } from './routes/media.routes.js';
import { rightsRoutes } from './routes/rights.routes.js';
import { auditRoutes } from './routes/audit.routes.js';
import { oversightRoutes } from './routes/oversight.routes.js';
import { portalRoutes } from './routes/portal.routes.js';

export const ROUTES: readonly RouteDef[] = [
  ...purposeRoutes,
  ...galleryRoutes,
  ...mediaRoutes,
  ...rightsRoutes,
  ...auditRoutes,
  ...oversightRoutes,
  ...portalRoutes,
];

export interface AppOptions {
  readonly veil: Veil;
  /** The engine for request-path detection; the worker pool in the server. */
  readonly engine?: FaceDetector;
  readonly version?: string;
  readonly logger?: boolean;
  /** Public endpoints: requests per minute per IP, and per contact address for new requests. */
  readonly publicRateLimit?: { perIp: number; perContact: number };
  /**
   * Behind a reverse proxy: which proxies to believe about the client address (Fastify's
   * trustProxy: true, or proxy addresses/CIDRs). Per-IP rate limits depend on it.
   */
  readonly trustProxy?: boolean | string;
  readonly bodyLimitBytes?: number;
  readonly requestTimeoutMs?: number;
  /** Extra plugins (the web UI) registered after the API. */
  readonly extra?: (app: FastifyInstance) => Promise<void>;
  readonly ready?: () => Promise<boolean>;
}

declare module 'fastify' {
  interface FastifyRequest {
    apiKey: ApiKey | null;
  }
}

/** Maps framework errors (validation, body size, content type, rate limit) onto Veil's codes. */
function frameworkCode(e: { code?: string; statusCode?: number }): ErrorCode {
  if (e.statusCode === 429) return 'RATE_LIMITED';
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || e.code === 'FST_REQ_FILE_TOO_LARGE' || e.statusCode === 413)
    return 'PAYLOAD_TOO_LARGE';
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || e.statusCode === 415) return 'UNSUPPORTED_MEDIA_TYPE';
  if (e.statusCode && e.statusCode < 500) return 'INVALID_INPUT';
  return 'INTERNAL';
}

/**
 * The API as a Fastify instance: the same app the tests drive and `veil serve` listens with.
 * Routes come from one table whose zod schemas validate requests and produce the OpenAPI document.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { veil } = opts;
  const engine: FaceDetector = opts.engine ?? (veil.engine as unknown as FaceDetector);
  const metrics = new Metrics();
  const app = Fastify({
    bodyLimit: opts.bodyLimitBytes ?? 25 * 2 ** 20,
    trustProxy: opts.trustProxy ?? false,
    requestTimeout: opts.requestTimeoutMs ?? 60_000,
    genReqId: () =>
      createHash('sha256').update(`${process.hrtime.bigint()}${Math.random()}`).digest('hex').slice(0, 16),
    // Requests are logged by method, route and status only: bodies (photos), queries (tokens) and
    // headers (keys) never reach a log line.
    logger: opts.logger
      ? {
          level: 'info',
          stream: process.stderr,
          serializers: {
            req: (r: FastifyRequest) => ({ method: r.method, route: r.routeOptions?.url ?? 'unknown', id: r.id }),
            res: (r: { statusCode: number }) => ({ statusCode: r.statusCode }),
          },
        }
      : false,
  });
  app.decorateRequest('apiKey', null);
  // JSON and multipart only: anything else is refused with 415 rather than guessed at.
  app.removeContentTypeParser('text/plain');

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        connectSrc: ["'self'"],
        mediaSrc: ["'self'", 'blob:'],
      },
    },
    crossOriginEmbedderPolicy: false,
  });
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: 20 * 2 ** 20, files: 10, fields: 30 },
  });
  await app.register(rateLimit, { global: false });

  const doc = openApiDocument(ROUTES, opts.version ?? '0.1.0');
  await app.register(swagger, { mode: 'static', specification: { document: doc as never } });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { code?: string; statusCode?: number };
    let p;
    if (isVeilError(e)) p = problem(e.code, e.message);
    else if (isDatabaseUnavailable(e))
      p = problem(
        'DATABASE_UNAVAILABLE',
        'The database is unavailable for a moment; nothing was changed. Retry shortly.',
      );
    else if (e.statusCode === 429) p = problem('RATE_LIMITED', 'Too many requests; slow down.');
    else {
      const code = frameworkCode(e);
      p = problem(
        code,
        code === 'INTERNAL' ? 'Something went wrong on our side; the request id helps us find it.' : e.message,
      );
    }
    if (p.status >= 500)
      req.log.error({ reqId: req.id, code: p.code, err: { message: e.message, code: e.code } }, 'request failed');
    if (p.code === 'ENGINE_OVERLOADED' || p.code === 'RATE_LIMITED' || p.code === 'DATABASE_UNAVAILABLE')
      reply.header('retry-after', '1');
    reply
      .code(p.status)
      .type('application/problem+json')
      .send({ ...p, instance: req.url.split('?')[0], requestId: req.id });
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .code(404)
      .type('application/problem+json')
      .send({ ...problem('NOT_FOUND', `No route ${req.method} ${req.url.split('?')[0]}.`), requestId: req.id });
  });
  app.addHook('onResponse', async (req, reply) => {
    metrics.observe(req.method, req.routeOptions?.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    let ok = true;
    try {
      await veil.store.db.selectFrom('veil_migrations').select('version').limit(1).execute();
      if (opts.ready) ok = await opts.ready();
    } catch {
      ok = false;
    }
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/openapi.json', async () => doc);
  app.get('/metrics', async (_req, reply) => {
    const purposes = await veil.purposes.list();
    const counts = await veil.rights.counts();
    const overdueBreaches = (await veil.breaches.list({ overdue: true })).length;
    const overdueOrders = (await veil.orders.list({ overdue: true })).length;
    reply.type('text/plain; version=0.0.4');
    return metrics.render([
      {
        name: 'veil_gallery_templates',
        help: 'Matchable templates per purpose',
        values: purposes.map((p) => ({ labels: `purpose="${p.key}"`, value: veil.index.size(p.id) })),
      },
      { name: 'veil_rights_requests_open', help: 'Open rights requests', values: [{ labels: '', value: counts.open }] },
      {
        name: 'veil_rights_requests_overdue',
        help: 'Rights requests past their deadline',
        values: [{ labels: '', value: counts.overdue }],
      },
      {
        name: 'veil_breach_notifications_overdue',
        help: 'Breaches not notified within 72 hours of discovery',
        values: [{ labels: '', value: overdueBreaches }],
      },
      {
        name: 'veil_orders_overdue',
        help: 'Regulator orders past their deadline and still open',
        values: [{ labels: '', value: overdueOrders }],
      },
    ]);
  });

  const limits = opts.publicRateLimit ?? { perIp: 30, perContact: 5 };
  const perContact = new Map<string, { n: number; reset: number }>();
  for (const r of ROUTES) {
    app.route({
      method: r.method,
      url: r.url,
      ...(r.auth === 'public' ? { config: { rateLimit: { max: limits.perIp, timeWindow: 60_000 } } } : {}),
      handler: async (req, reply) => {
        let key: ApiKey | null = null;
        if (r.auth !== 'public') {
          const h = req.headers.authorization;
          key = await veil.apiKeys.authenticate(h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined);
          requireRole(key, r.auth);
        }
        const parse = <T extends z.ZodType>(schema: T | undefined, v: unknown, where: string): unknown => {
          if (!schema) return v;
          const res = schema.safeParse(v ?? (where === 'body' ? {} : v));
          if (!res.success)
            throw new VeilError(
              'INVALID_INPUT',
              res.error.issues
                .map((i) => `${where}${i.path.length ? '.' + i.path.join('.') : ''}: ${i.message}`)
                .join('; '),
            );
          return res.data;
        };
        const body = parse(r.body, req.body, 'body') as Record<string, unknown> | undefined;
        if (
          r.auth === 'public' &&
          (r.url === '/v1/rights/requests' || r.url === '/v1/portal/enroll') &&
          body &&
          typeof body['email'] === 'string'
        ) {
          // Per-contact limit: one address cannot be flooded with codes from many IPs.
          const k = createHash('sha256').update(body['email'].trim().toLowerCase()).digest('hex');
          const now = Date.now();
          const c = perContact.get(k);
          if (c && c.reset > now && c.n >= limits.perContact)
            throw new VeilError('RATE_LIMITED', 'Too many requests for this address; try again later.');
          perContact.set(k, c && c.reset > now ? { n: c.n + 1, reset: c.reset } : { n: 1, reset: now + 3_600_000 });
        }
        const actor: Actor = key ? { kind: 'api-key', id: key.id } : { kind: 'public', id: 'requester' };
        const ctx: RouteContext<unknown, unknown, unknown> = {
          veil,
          engine,
          key,
          actor,
          body,
          query: parse(r.query, req.query, 'query'),
          params: parse(r.params, req.params, 'params'),
          req,
          reply,
          purpose: async (ref) => {
            const p = await veil.purposes.get(ref);
            if (key && key.role !== 'dpo' && !mayUsePurpose(key, p.key, p.id))
              throw new VeilError('FORBIDDEN', `This key is not bound to purpose '${p.key}'.`);
            return p;
          },
        };
        const idem = r.idempotent && key ? req.headers['idempotency-key'] : undefined;
        if (typeof idem === 'string' && idem) {
          const id = createHash('sha256').update(`${key!.id}|${r.method} ${r.url}|${idem}`).digest('hex');
          const fingerprint = createHash('sha256')
            .update(
              JSON.stringify(req.body ?? null, (_k, v) =>
                Buffer.isBuffer(v) ? createHash('sha256').update(v).digest('hex') : v,
              ),
            )
            .digest('hex');
          const seen = await veil.store.db
            .selectFrom('idempotency')
            .selectAll()
            .where('key', '=', id)
            .executeTakeFirst();
          if (seen) {
            if (seen.fingerprint !== fingerprint)
              throw new VeilError('CONFLICT', 'This Idempotency-Key was used with a different request.');
            return reply.code(seen.status).header('idempotent-replay', 'true').send(JSON.parse(seen.body));
          }
          const result = await r.handler(ctx as never);
          await veil.store.db
            .insertInto('idempotency')
            .values({
              key: id,
              fingerprint,
              status: r.status ?? 200,
              body: JSON.stringify(result),
              created_at: veil.clock.now().toISOString(),
            })
            .onConflict((oc) => oc.column('key').doNothing())
            .execute();
          return reply.code(r.status ?? 200).send(result);
        }
        const result = await r.handler(ctx as never);
        if (reply.sent) return reply;
        return reply.code(r.status ?? 200).send(result);
      },
    });
  }
  if (opts.extra) await opts.extra(app);
  return app;
}

import { createHash } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { Services } from '../app/veil.js';
import { actors } from '../auth/actor.js';
import { problem } from './problem.js';
import { openApiDocument } from './openapi.js';
import { Metrics } from './metrics.js';
import { registerSurface, type Surface, type SurfaceLimits } from './surface.js';
import { v1Surface } from './v1/surface.js';
import { FAVICON_ICO } from './favicon.js';
import { drpSurface } from './drp/surface.js';
import { compreFaceSurface } from './compreface/surface.js';
import { VeilError } from '../errors.js';
import { TRUST_ANY_PROXY } from '../config/setting.js';

export interface AppOptions {
  readonly services: Services;
  readonly version?: string;
  readonly logger?: boolean;
  readonly limits?: Partial<SurfaceLimits>;
  /**
   * Behind a reverse proxy: which proxies to believe about the client address (addresses/CIDRs).
   * Per-IP rate limits depend on it. `true` (believe anyone) is refused: see TRUST_ANY_PROXY.
   */
  readonly trustProxy?: boolean | string | string[];
  readonly requestTimeoutMs?: number;
  /** More surfaces (compatibility APIs) beside Veil's own /v1. */
  readonly surfaces?: readonly Surface[];
  /** Extra plugins (the web UI) registered after the API. */
  readonly extra?: (app: FastifyInstance) => Promise<void>;
  /** Told of every route as it is registered (the authorization matrix test lists them from the app). */
  readonly onRoute?: (method: string, url: string) => void;
  /** Readiness beyond the database (the engine pool has live workers). */
  readonly ready?: () => Promise<boolean>;
  /** A `Server-Timing` header of stage times on every API answer (VEIL_SERVER_TIMING). */
  readonly serverTiming?: boolean;
}

export const DEFAULT_LIMITS: SurfaceLimits = {
  bodyBytes: 25 * 2 ** 20,
  publicPhotoBytes: 10 * 2 ** 20,
  publicJsonBytes: 64 * 2 ** 10,
  publicPerIpPerMinute: 30,
};

/**
 * The API as a Fastify instance: the same app the tests drive and `veil serve` listens with. Each
 * surface (Veil's /v1 and the compatibility APIs) registers its routes with its own credentials
 * and error shape; what a caller may do is decided inside the services the routes call.
 */
export async function buildApp(opts: AppOptions): Promise<FastifyInstance> {
  const { services } = opts;
  if (opts.trustProxy === true) throw new VeilError('INVALID_INPUT', `trustProxy: ${TRUST_ANY_PROXY}`);
  const limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const metrics = new Metrics();
  const app = Fastify({
    bodyLimit: limits.bodyBytes,
    trustProxy: (opts.trustProxy ?? false) as boolean,
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
  app.decorateRequest('actor', null);
  if (opts.onRoute) app.addHook('onRoute', (r) => [r.method].flat().forEach((m) => opts.onRoute!(m, r.url)));
  app.decorateRequest('handling', false);
  app.decorateRequest('timing', null);
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
    limits: { fileSize: limits.bodyBytes, files: 10, fields: 30 },
  });
  const surfaces = [v1Surface, drpSurface, compreFaceSurface, ...(opts.surfaces ?? [])];
  const doc = openApiDocument(v1Surface.routes, opts.version ?? '0.1.0');
  await app.register(swagger, { mode: 'static', specification: { document: doc as never } });
  // Swagger UI's own CSP (staticCSP: true) forbids the inline styles its bundle sets, upgrades requests
  // to https and allows an image from validator.swagger.io: this one is the app's policy, local only.
  await app.register(swaggerUi, {
    routePrefix: '/docs',
    staticCSP: {
      'default-src': ["'self'"],
      'base-uri': ["'self'"],
      'object-src': ["'none'"],
      'frame-ancestors': ["'self'"],
      'script-src': ["'self'"],
      'script-src-attr': ["'none'"],
      'style-src': ["'self'", "'unsafe-inline'"],
      'img-src': ["'self'", 'data:'],
      'font-src': ["'self'", 'data:'],
      'connect-src': ["'self'"],
    },
    uiConfig: { validatorUrl: null },
  });
  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { statusCode?: number };
    const p =
      e.statusCode && e.statusCode < 500
        ? problem('INVALID_INPUT', e.message)
        : problem('INTERNAL', 'Something went wrong on our side; the request id helps us find it.');
    reply
      .code(p.status)
      .type('application/problem+json')
      .send({ ...p, requestId: req.id });
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
  app.get('/favicon.ico', async (_req, reply) =>
    reply.type('image/x-icon').header('cache-control', 'public, max-age=86400').send(FAVICON_ICO),
  );
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    const ok = (await services.ops.databaseReady()) && (opts.ready ? await opts.ready().catch(() => false) : true);
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ready' : 'not ready' });
  });
  app.get('/openapi.json', async () => doc);
  for (const s of surfaces) await registerSurface(app, s, services, limits, opts.serverTiming);
  // Metrics name purposes and gallery sizes: a key is needed unless the operator made them public.
  await registerSurface(app, metricsSurface(metrics, services), services, limits);
  if (opts.extra) await opts.extra(app);
  return app;
}

function metricsSurface(metrics: Metrics, services: Services): Surface {
  return {
    ...v1Surface,
    name: 'metrics',
    routes: [
      {
        method: 'GET',
        url: '/metrics',
        summary: 'Prometheus metrics',
        tag: 'ops',
        access: 'optional-key',
        produces: 'text/plain',
        handler: async ({ actor, reply }) => {
          const families = await services.ops.metrics(actor.kind === 'public' ? actors.public('metrics') : actor);
          reply.type('text/plain; version=0.0.4');
          return metrics.render(families.map((f) => ({ ...f, values: [...f.values] })));
        },
      },
    ],
  };
}

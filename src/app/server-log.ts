import type { FastifyInstance, FastifyRequest } from 'fastify';
import { scrubbed } from '../privacy/told.js';

/**
 * What `veil serve` tells its operator. On a terminal: short lines (`12:04:31  POST /v1/enroll  201
 * 143 ms`); otherwise, or with --log-json: JSON lines, the request log being Fastify's own. Either
 * way a request line names the method, the route pattern and the status, never a body, a query
 * (tokens), a header (keys) or the ids in the path.
 */
export interface ServerLog {
  readonly json: boolean;
  info(message: string): void;
  warn(message: string): void;
  /** A failure no request answers for (a background run's): what it says, with fields such as the stack. */
  error(message: string, fields: Record<string, string>): void;
  /** Human mode: one line per request on this app (JSON mode leaves it to Fastify's logger). */
  attach(app: FastifyInstance): void;
}

const time = () => new Date().toTimeString().slice(0, 8);

export function startLog(opts: { json: boolean; write: (text: string) => void }): ServerLog {
  const { write } = opts;
  if (opts.json) {
    const line = (level: number, msg: string, fields = {}) =>
      write(JSON.stringify({ level, time: Date.now(), msg, ...fields }) + '\n');
    return {
      json: true,
      info: (m) => line(30, m),
      warn: (m) => line(40, m),
      error: (m, fields) => line(50, m, fields),
      attach: () => undefined,
    };
  }
  return {
    json: false,
    info: (m) => write(`veil: ${m}\n`),
    warn: (m) => write(`veil: WARNING: ${m}\n`),
    error: (m, fields) =>
      write(
        `veil: ERROR: ${m}\n${Object.entries(fields)
          .map(([k, v]) => `  ${k}: ${v}\n`)
          .join('')}`,
      ),
    attach(app) {
      const failures = new WeakMap<FastifyRequest, Error & { code?: string }>();
      app.addHook('onError', async (req, _reply, err) => {
        failures.set(req, err);
      });
      app.addHook('onResponse', async (req, reply) => {
        const route = req.routeOptions?.url ?? '(no route)';
        if (route === '/healthz' || route === '/readyz') return;
        const e = failures.get(req);
        const why = e
          ? `  ${e.code ?? e.name}${reply.statusCode >= 500 ? `: ${scrubbed(e.message)} (request ${req.id})` : ''}`
          : '';
        write(`${time()}  ${req.method} ${route}  ${reply.statusCode}  ${Math.round(reply.elapsedTime)} ms${why}\n`);
      });
    },
  };
}

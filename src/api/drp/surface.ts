import type { FastifyRequest } from 'fastify';
import { STATUS } from '../problem.js';
import type { Surface } from '../surface.js';
import { drpRoutes } from './routes.js';

/** §2.05: a failed pair-wise set-up is a 403 with no body, whatever failed. */
function pairing(req: FastifyRequest): boolean {
  return req.method === 'POST' && req.routeOptions?.url === '/v1/agent/:agentId';
}

/**
 * The Data Rights Protocol surface: credentials are an agent's pair-wise bearer token, bodies the
 * base64 of a signed message sent as text/plain (accepted here only: the /v1 surface still refuses
 * text/plain), and errors the protocol's `{ code, message, fatal }` with `code` the HTTP status as a
 * string. `fatal` is true when the same message can never succeed (the request would be denied).
 */
export const drpSurface: Surface = {
  name: 'drp',
  routes: drpRoutes,
  credential(req) {
    const h = req.headers.authorization;
    return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
  },
  setup(scope) {
    const text = (_req: FastifyRequest, body: string | Buffer, done: (e: Error | null, v?: unknown) => void) =>
      done(null, String(body));
    scope.addContentTypeParser('text/plain', { parseAs: 'string' }, text);
    // A signed body sent with no content type at all (the conformance app's revoke does this).
    scope.addContentTypeParser('*', { parseAs: 'string' }, text);
  },
  render(code, message, req, extra) {
    const status = STATUS[code];
    if (pairing(req) && status < 429) return { status: 403, type: 'text/plain', body: '' };
    return {
      status,
      type: 'application/json',
      body: { code: String(status), message, fatal: extra['fatal'] === true },
    };
  },
};

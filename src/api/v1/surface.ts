import type { FastifyRequest } from 'fastify';
import { problem } from '../problem.js';
import type { Surface } from '../surface.js';
import { purposeRoutes } from './purposes.routes.js';
import { galleryRoutes } from './gallery.routes.js';
import { confirmationRoutes } from './confirmation.routes.js';
import { mediaRoutes } from './media.routes.js';
import { rightsRoutes } from './rights.routes.js';
import { auditRoutes } from './audit.routes.js';
import { oversightRoutes } from './oversight.routes.js';
import { portalRoutes } from './portal.routes.js';
import { agentRoutes } from './agents.routes.js';
import { modelRoutes } from './models.routes.js';

export const V1_ROUTES = [
  ...purposeRoutes,
  ...galleryRoutes,
  ...confirmationRoutes,
  ...mediaRoutes,
  ...rightsRoutes,
  ...auditRoutes,
  ...oversightRoutes,
  ...portalRoutes,
  ...agentRoutes,
  ...modelRoutes,
];

/** Veil's own API: `Authorization: Bearer veil_...`, errors as RFC 9457 problem details with a stable code. */
export const v1Surface: Surface = {
  name: 'v1',
  routes: V1_ROUTES,
  credential(req: FastifyRequest) {
    const h = req.headers.authorization;
    return h?.startsWith('Bearer ') ? h.slice(7).trim() : undefined;
  },
  render(code, message, req, extra) {
    const p = problem(code, message, extra);
    return {
      status: p.status,
      type: 'application/problem+json',
      body: { ...p, instance: req.url.split('?')[0], requestId: req.id },
    };
  },
};

import { Readable } from 'node:stream';
import { z } from 'zod';
import { route } from '../route.js';

const RequestId = z.object({ id: z.string().min(1).max(100) });
const AgentId = z.object({ agentId: z.string().min(1).max(100) });
const TAG = 'data rights protocol';

const exercise = (url: string) =>
  route({
    method: 'POST',
    url,
    tag: TAG,
    summary: 'Data Rights Exercise (§2.01): a signed access, deletion or sale request from an authorized agent',
    access: 'agent',
    handler: async ({ services, actor, req }) => services.rights.drp.exercise(actor, req.body),
  });

/** The Data Rights Protocol endpoints a covered business serves (DRP 1.0 / 0.9.4). */
export const drpRoutes = [
  exercise('/v1/data-rights-request'),
  // Before DRP 0.9.3 the exercise URL ended with a slash; agents still send it.
  exercise('/v1/data-rights-request/'),
  route({
    method: 'GET',
    url: '/v1/data-rights-request/:id',
    tag: TAG,
    summary: 'Data Rights Status (§2.02); another agent is refused with 403',
    access: 'agent',
    params: RequestId,
    handler: async ({ services, actor, params }) => services.rights.drp.status(actor, params.id),
  }),
  route({
    method: 'DELETE',
    url: '/v1/data-rights-request/:id',
    tag: TAG,
    summary: 'Data Rights Revoke (§2.04): a signed body with a reason; the answer is the revoked status',
    access: 'agent',
    params: RequestId,
    handler: async ({ services, actor, params, req }) => services.rights.drp.revoke(actor, params.id, req.body),
  }),
  route({
    method: 'GET',
    url: '/v1/data-rights-request/:id/results',
    tag: TAG,
    summary: "An access request's result (the status's results_url), for the agent that filed it",
    access: 'agent',
    params: RequestId,
    produces: 'application/zip',
    handler: async ({ services, actor, params, reply }) => {
      const r = await services.rights.drp.resultsStream(actor, params.id);
      reply
        .header('content-type', 'application/zip')
        .header('content-disposition', `attachment; filename="${params.id}.zip"`);
      return Readable.from(r.chunks);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/agent/:agentId',
    tag: TAG,
    summary: 'Pair-wise key set-up (§2.05): a message signed with the registered key returns a bearer token',
    access: 'public',
    params: AgentId,
    handler: async ({ services, params, req }) => services.rights.agents.pair(params.agentId, req.body),
  }),
  route({
    method: 'GET',
    url: '/v1/agent/:agentId',
    tag: TAG,
    summary: 'Agent information (§2.06): {} while the token is valid for this agent',
    access: 'agent',
    params: AgentId,
    handler: async ({ services, actor, params }) => services.rights.agents.info(actor, params.agentId),
  }),
  route({
    method: 'GET',
    url: '/v1/drp/verify/:id',
    tag: TAG,
    summary:
      "For the portal's verify page: the agent's name, and redirect_to only when it is on the agent's registered origins",
    access: 'public',
    params: RequestId,
    query: z.object({ redirect_to: z.string().max(2000).optional() }),
    handler: async ({ services, params, query }) => services.rights.drp.verifyPage(params.id, query.redirect_to),
  }),
  route({
    method: 'GET',
    url: '/v1/drp/service',
    tag: TAG,
    summary: "This business's entry for the DRP service directory (§3.05.2)",
    access: 'public',
    handler: async ({ services }) => services.rights.drp.directory(),
  }),
];

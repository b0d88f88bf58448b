import { z } from 'zod';
import { route } from '../route.js';

/** An authorized agent as registered (never its token). */
const AgentDoc = z.object({
  id: z.string(),
  name: z.string(),
  verifyKey: z.string(),
  callbackOrigin: z.string().nullable(),
  webUrl: z.string().nullable(),
  pairedAt: z.string().nullable(),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

/**
 * The registry of Data Rights Protocol agents (admin only): it stands in for the protocol's service
 * directory, for the console as `veil agents` does for the shell.
 */
export const agentRoutes = [
  route({
    method: 'POST',
    url: '/v1/agents',
    tag: 'agents',
    summary:
      'Register an authorized agent: its DRP id, name, Ed25519 verify key and the one origin its callbacks go to',
    access: 'key',
    status: 201,
    body: z.object({
      id: z.string().min(1).max(100),
      name: z.string().min(1).max(200),
      verifyKey: z.string().min(1).max(200),
      callbackOrigin: z.string().max(300).optional(),
      webUrl: z.string().max(300).optional(),
    }),
    response: AgentDoc,
    handler: async ({ services, actor, body }) => services.rights.agents.add(actor, body),
  }),
  route({
    method: 'GET',
    url: '/v1/agents',
    tag: 'agents',
    summary: 'Registered authorized agents (never their tokens)',
    access: 'key',
    response: z.object({ items: z.array(AgentDoc), nextCursor: z.null() }),
    handler: async ({ services, actor }) => ({ items: await services.rights.agents.list(actor), nextCursor: null }),
  }),
  route({
    method: 'DELETE',
    url: '/v1/agents/:id',
    tag: 'agents',
    summary: 'Revoke an authorized agent: its token stops working at once; its requests stay in the queue',
    access: 'key',
    params: z.object({ id: z.string().min(1).max(100) }),
    response: z.object({ revoked: z.string() }),
    handler: async ({ services, actor, params }) => (
      await services.rights.agents.revoke(actor, params.id),
      { revoked: params.id }
    ),
  }),
];

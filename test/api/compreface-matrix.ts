import type { FastifyInstance } from 'fastify';
import type { Veil } from '../../src/app/veil.js';
import { actors, ROLES, type Actor, type Role } from '../../src/auth/actor.js';
import { fakePhoto } from '../../support/fake-analyzer.js';

/**
 * The CompreFace-compatible surface in the authorization matrix. Its key is `x-api-key`, and only a
 * compatibility key (operator or admin, one purpose) opens it: an ordinary key of any role is refused.
 * Every route acts on the key's own purpose; `scoped` routes name a subject, which a key bound to
 * another purpose does not see (42). Routes naming a face id answer 44 to such a key, as for any
 * unknown id, so they are listed unscoped.
 */
export const COMPAT_MATRIX: Record<string, { roles: readonly Role[] | 'public'; scoped: boolean }> = {
  'POST /api/v1/recognition/subjects': { roles: ['operator'], scoped: false },
  'GET /api/v1/recognition/subjects': { roles: ['operator'], scoped: false },
  'GET /api/v1/recognition/subjects/': { roles: ['operator'], scoped: false },
  'PUT /api/v1/recognition/subjects/:subject': { roles: ['operator'], scoped: true },
  'DELETE /api/v1/recognition/subjects/:subject': { roles: ['operator'], scoped: true },
  // Deleting every subject of a purpose: an admin-bound compatibility key only.
  'DELETE /api/v1/recognition/subjects': { roles: [], scoped: false },
  'POST /api/v1/recognition/faces': { roles: ['operator'], scoped: true },
  'GET /api/v1/recognition/faces': { roles: ['operator'], scoped: false },
  // With ?subject= (what clients send to retrain); without one it is admin-only (test/rules/compreface.test.ts).
  'DELETE /api/v1/recognition/faces': { roles: ['operator'], scoped: false },
  'POST /api/v1/recognition/faces/delete': { roles: ['operator'], scoped: false },
  'DELETE /api/v1/recognition/faces/:image_id': { roles: ['operator'], scoped: false },
  'GET /api/v1/recognition/faces/:image_id/img': { roles: ['operator'], scoped: false },
  'POST /api/v1/recognition/recognize': { roles: ['operator'], scoped: false },
  'POST /api/v1/recognition/faces/:image_id/verify': { roles: ['operator'], scoped: false },
  'POST /api/v1/detection/detect': { roles: ['operator'], scoped: false },
  'POST /api/v1/verification/verify': { roles: ['operator'], scoped: false },
  'GET /api/v1/openapi.json': { roles: 'public', scoped: false },
};

const NOTICE = 'A notice that is long enough to be one.';
const rand = () => Math.random().toString(36).slice(2, 10);

/** Tokens per role and binding: compatibility keys for operator and admin, ordinary keys for the rest. */
export async function compatTokens(
  v: Veil,
  ordinary: ReadonlyMap<string, string>,
): Promise<{ tokens: Map<string, string>; alpha: Actor }> {
  const tokens = new Map<string, string>();
  for (const role of ROLES)
    for (const bound of ['alpha', 'beta'] as const)
      tokens.set(
        `${role}/${bound}`,
        role === 'operator' || role === 'admin'
          ? (await v.compreface.keys.create(actors.system('matrix'), { role, purpose: bound })).token
          : ordinary.get(`${role}/${bound}`)!,
      );
  return { tokens, alpha: await v.apiKeys.authenticate(tokens.get('operator/alpha')) };
}

/** A request for a compatibility route, with a fresh consented name and face of `alpha` to act on. */
async function compatRequest(v: Veil, alpha: Actor, route: string) {
  const [method, pattern] = route.split(' ') as ['GET' | 'POST' | 'PUT' | 'DELETE', string];
  const name = `n${rand()}`;
  await v.consents.give(actors.system('matrix'), {
    purpose: 'alpha',
    noticeText: NOTICE,
    noticeVersion: '1',
    method: 'api',
    collector: 'm',
    alias: name,
  });
  const id = (await v.compreface.collection.addFace(alpha, name, fakePhoto(name))).image_id;
  const file = Buffer.from(fakePhoto(name, '2')).toString('base64');
  let url = pattern.replace(':subject', name).replace(':image_id', id);
  let payload: unknown;
  if (route === 'POST /api/v1/recognition/subjects' || route.startsWith('PUT ')) payload = { subject: `s${rand()}` };
  if (route === 'POST /api/v1/recognition/faces' || route === 'DELETE /api/v1/recognition/faces')
    url += `?subject=${name}`;
  if (route === 'POST /api/v1/recognition/faces/delete') payload = [id];
  if (method === 'POST' && payload === undefined) payload = { file, source_image: file, target_image: file };
  return { method, url, ...(payload !== undefined ? { payload } : {}) };
}

/** What every role and binding gets on one compatibility route, against the table; the failures. */
export async function checkCompat(
  app: FastifyInstance,
  v: Veil,
  route: string,
  tokens: ReadonlyMap<string, string>,
  alpha: Actor,
): Promise<string[]> {
  const rule = COMPAT_MATRIX[route]!;
  const failures: string[] = [];
  const anon = await app.inject((await compatRequest(v, alpha, route)) as never);
  if (rule.roles === 'public') {
    if (anon.statusCode === 401 || anon.statusCode === 403) failures.push(`${route} public -> ${anon.statusCode}`);
    return failures;
  }
  if (anon.statusCode !== 401) failures.push(`${route} without a key -> ${anon.statusCode}`);
  for (const role of ROLES)
    for (const bound of ['alpha', 'beta'] as const) {
      const req = await compatRequest(v, alpha, route);
      const res = await app.inject({ ...req, headers: { 'x-api-key': tokens.get(`${role}/${bound}`)! } } as never);
      const body = /json/.test(String(res.headers['content-type'])) ? (res.json() as { veil_code?: string }) : {};
      // A key of another purpose finds no such name (42), and cannot add a face for someone who consented elsewhere.
      const refused =
        res.statusCode === 401 ||
        res.statusCode === 403 ||
        body.veil_code === 'UNKNOWN_SUBJECT' ||
        body.veil_code === 'CONSENT_REQUIRED';
      const expectAllowed = (role === 'admin' || rule.roles.includes(role)) && (!rule.scoped || bound === 'alpha');
      if (refused === expectAllowed)
        failures.push(
          `${route} as ${role} bound to ${bound}: ${res.statusCode} ${body.veil_code ?? ''} (expected ${expectAllowed ? 'allowed' : 'refused'})`,
        );
    }
  return failures;
}

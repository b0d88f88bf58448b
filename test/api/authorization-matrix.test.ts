import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import type { Veil } from '../../src/app/veil.js';
import { actors, ROLES, type Role } from '../../src/auth/actor.js';
import { admin, consentPurpose, fakePhoto, person, ruleVeil } from '../rules/fixture.js';
import type { MemoryMailer } from '../../support/memory-mailer.js';
import { TestAgent } from '../../support/drp-agent.js';
import { COMPAT_MATRIX, checkCompat, compatTokens } from './compreface-matrix.js';

/**
 * Who may call what, written by hand: not read back from the routes. Every route the running app
 * registers (every surface) must have an entry, and every role, with a key bound to the purpose
 * it targets or to another one, gets exactly what this table says.
 *   roles:  the roles besides admin that may call it; 'public' for routes without a key; 'agent' for
 *           the Data Rights Protocol's routes: only a registered agent's bearer token, for what that
 *           agent filed (no API key of any role, another agent is refused, and no agent token opens
 *           any other route).
 *   scoped: the route reaches one purpose's data, so a key bound to another purpose is refused;
 *           'everywhere': its data spans every purpose (rights queue, audit, oversight, keys, agents),
 *           so only a key bound to all purposes may call it, whatever its role.
 */
const MATRIX: Record<string, { roles: readonly Role[] | 'public' | 'agent'; scoped: boolean | 'everywhere' }> = {
  'POST /v1/purposes': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/purposes': { roles: ['operator', 'investigator', 'dpo', 'auditor'], scoped: false },
  'GET /v1/purposes/:purpose': { roles: ['operator', 'investigator', 'dpo', 'auditor'], scoped: true },
  'POST /v1/purposes/:purpose/suspend': { roles: ['dpo'], scoped: true },
  // The two-person rule of a purpose: an admin bound to it.
  'POST /v1/purposes/:purpose/confirmations': { roles: [], scoped: true },
  // A purpose's target FPIR: an admin bound to that purpose.
  'PATCH /v1/purposes/:purpose': { roles: [], scoped: true },
  // Switching the embedder spans every purpose's templates: admin keys bound to all of them.
  'GET /v1/models': { roles: [], scoped: 'everywhere' },
  'POST /v1/models/reembed': { roles: [], scoped: 'everywhere' },
  'GET /v1/models/reembed': { roles: [], scoped: 'everywhere' },
  'GET /v1/models/reembed/:id': { roles: [], scoped: 'everywhere' },
  'DELETE /v1/models/reembed/:id': { roles: [], scoped: 'everywhere' },
  'POST /v1/consents': { roles: ['operator'], scoped: true },
  'GET /v1/consents/:id': { roles: ['operator', 'dpo'], scoped: true },
  'GET /v1/consents/:id/receipt': { roles: ['operator', 'dpo'], scoped: true },
  'POST /v1/consents/:id/withdraw': { roles: ['operator', 'dpo'], scoped: true },
  'POST /v1/enroll': { roles: ['operator'], scoped: true },
  'POST /v1/identify': { roles: ['operator', 'investigator'], scoped: true },
  'POST /v1/verify': { roles: ['operator', 'investigator'], scoped: true },
  'POST /v1/detect': { roles: ['operator', 'investigator'], scoped: false },
  // Confirming a match (EU AI Act Art. 14(5)): those who may identify, bound to the search's purpose.
  'POST /v1/searches/:searchId/faces/:face/candidates/:subjectId/confirm': {
    roles: ['operator', 'investigator'],
    scoped: true,
  },
  'POST /v1/searches/:searchId/faces/:face/candidates/:subjectId/reject': {
    roles: ['operator', 'investigator'],
    scoped: true,
  },
  'GET /v1/searches/:searchId/confirmations': { roles: ['operator', 'investigator', 'dpo'], scoped: true },
  // A list shows each key the subjects of its own purposes: a key bound elsewhere gets its own (maybe empty) list.
  'GET /v1/subjects': { roles: ['operator', 'dpo'], scoped: false },
  'GET /v1/subjects/:id': { roles: ['operator', 'dpo'], scoped: true },
  'GET /v1/subjects/:id/photo': { roles: ['operator', 'dpo'], scoped: true },
  'GET /v1/subjects/:id/sightings/:sighting/photo': { roles: ['operator', 'dpo'], scoped: true },
  'GET /v1/subjects/:id/sightings': { roles: ['operator', 'dpo'], scoped: true },
  'POST /v1/subjects/:id/restrict': { roles: ['dpo'], scoped: true },
  'POST /v1/media': { roles: ['operator'], scoped: true },
  // Like the subjects list: each key sees the photos of its own purposes (maybe none).
  'GET /v1/media': { roles: ['operator', 'dpo'], scoped: false },
  'GET /v1/media/:id/faces': { roles: ['operator', 'dpo'], scoped: true },
  'GET /v1/media/:id/redacted': { roles: ['operator', 'dpo'], scoped: true },
  'POST /v1/rights/requests': { roles: 'public', scoped: false },
  'POST /v1/rights/requests/:id/verify': { roles: 'public', scoped: false },
  'POST /v1/rights/requests/:id/resend': { roles: 'public', scoped: false },
  'GET /v1/rights/requests/:id/result': { roles: 'public', scoped: false },
  'GET /v1/rights/requests/:id/download': { roles: 'public', scoped: false },
  'POST /v1/rights/requests/:id/self-service': { roles: 'public', scoped: false },
  'POST /v1/rights/requests/:id/actions': { roles: 'public', scoped: false },
  // The rights queue is about people, across purposes: the DPO's, whatever their key's binding.
  'GET /v1/rights/requests': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/rights/requests/:id': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/rights/requests/:id/extend': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/rights/requests/:id/review': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/rights/requests/:id/fulfil': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/rights/requests/:id/deny': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/audit/pubkey': { roles: 'public', scoped: false },
  'GET /v1/audit/head': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'GET /v1/audit/proof/:seq': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'POST /v1/audit/verify': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'GET /v1/audit/consistency': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'GET /v1/audit/entries': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'GET /v1/audit/export': { roles: ['auditor', 'dpo'], scoped: 'everywhere' },
  'POST /v1/keys': { roles: [], scoped: 'everywhere' },
  'GET /v1/keys': { roles: [], scoped: 'everywhere' },
  'DELETE /v1/keys/:id': { roles: [], scoped: 'everywhere' },
  'GET /v1/oversight/ropa': { roles: ['dpo', 'auditor'], scoped: 'everywhere' },
  'GET /v1/oversight/dpia/:purpose': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/oversight/retention/run': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/retention-schedule': { roles: 'public', scoped: false },
  'POST /v1/oversight/orders': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/oversight/orders': { roles: ['dpo', 'auditor'], scoped: 'everywhere' },
  'POST /v1/oversight/orders/:id/actions': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/oversight/orders/:id/bundle': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/oversight/breaches': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/oversight/breaches/:id/notify': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/oversight/breaches': { roles: ['dpo', 'auditor'], scoped: 'everywhere' },
  'GET /v1/portal/purposes': { roles: 'public', scoped: false },
  'POST /v1/portal/enroll': { roles: 'public', scoped: false },
  'POST /v1/portal/enroll/:id/confirm': { roles: 'public', scoped: false },
  'GET /v1/portal/held': { roles: ['dpo'], scoped: 'everywhere' },
  'POST /v1/portal/held/:id': { roles: ['dpo'], scoped: 'everywhere' },
  'GET /v1/stats': { roles: ['operator', 'dpo', 'auditor'], scoped: false },
  // Metrics name purposes and gallery sizes: any key (VEIL_METRICS_PUBLIC=true opens them).
  'GET /metrics': { roles: ['operator', 'dpo', 'auditor'], scoped: false },
  // The agent registry (the protocol's service directory): admin only, like API keys.
  'POST /v1/agents': { roles: [], scoped: 'everywhere' },
  'GET /v1/agents': { roles: [], scoped: 'everywhere' },
  'DELETE /v1/agents/:id': { roles: [], scoped: 'everywhere' },
  'POST /v1/data-rights-request': { roles: 'agent', scoped: false },
  'POST /v1/data-rights-request/': { roles: 'agent', scoped: false },
  'GET /v1/data-rights-request/:id': { roles: 'agent', scoped: false },
  'DELETE /v1/data-rights-request/:id': { roles: 'agent', scoped: false },
  'GET /v1/data-rights-request/:id/results': { roles: 'agent', scoped: false },
  'GET /v1/agent/:agentId': { roles: 'agent', scoped: false },
  // Pair-wise key set-up: no token yet, the signature under the registered key is the credential.
  'POST /v1/agent/:agentId': { roles: 'public', scoped: false },
  'GET /v1/drp/service': { roles: 'public', scoped: false },
  'GET /v1/drp/verify/:id': { roles: 'public', scoped: false },
  // The CompreFace-compatible surface: x-api-key, compatibility keys only (test/api/compreface-matrix.ts).
  ...COMPAT_MATRIX,
};

/**
 * Allowed calls that cannot answer 2xx with this file's fixtures, and why. Every other allowed call
 * must answer 2xx, so that "allowed" means the route ran for that key, not only that it did not refuse.
 */
const NOT_2XX: Record<string, { status: number; why: string }> = {
  'GET /v1/subjects/:id/photo': { status: 404, why: 'the fixture purposes keep no enrollment photo' },
  'GET /v1/subjects/:id/sightings/:sighting/photo': { status: 404, why: 'the fixture subject has no sighting' },
  'GET /v1/media/:id/redacted': {
    status: 500,
    why: "the fake engine's photos are text, which redaction cannot decode",
  },
  'POST /v1/rights/requests/:id/review': {
    status: 409,
    why: 'no review is pending (that takes a selfie that found someone)',
  },
  'POST /v1/portal/held/:id': { status: 404, why: 'the fixtures hold no portal enrollment' },
  'DELETE /v1/models/reembed/:id': {
    status: 409,
    why: 'the fixture run has ended (nothing to re-embed) before it can be cancelled',
  },
};
const ran = (route: string, status: number) => status < 300 || NOT_2XX[route]?.status === status;

const BUSINESS = 'veil-matrix';
/** The agent that files what the DRP routes act on, another registered agent, and one that only pairs. */
const owner = new TestAgent('matrix-owner', BUSINESS);
const stranger = new TestAgent('matrix-stranger', BUSINESS);
const pairer = new TestAgent('matrix-pairer', BUSINESS);

const INFRA = new Set(['GET /healthz', 'GET /readyz', 'GET /openapi.json', 'HEAD /openapi.json', 'GET /favicon.ico']);

type Req = {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  url: string;
  payload?: Record<string, unknown> | string;
  headers?: Record<string, string>;
};
let v: Veil;
let mail: MemoryMailer;
let app: FastifyInstance;
const registered: string[] = [];
const tokens = new Map<string, string>();
const agentTokens = new Map<string, string>();
let compat: Awaited<ReturnType<typeof compatTokens>>;

/** A request for a route that reaches data of `purpose`, with fresh things to act on. */
async function build(route: string, purpose: 'alpha' | 'beta'): Promise<Req> {
  const [method, pattern] = route.split(' ') as [string, string];
  const img = Buffer.from(fakePhoto('matrix')).toString('base64');
  const fresh = () => person(v, purpose, `p${Math.random()}`, { email: `${Math.random()}@example.org` });
  const request = async () => {
    const email = `r${Math.random()}@example.org`;
    const r = await v.rights.intake.submit({ kind: 'access', email });
    const token = (await v.rights.intake.verify(r.requestId, { code: mail.codeFor(email) })).downloadToken;
    return { id: r.requestId, token };
  };
  const params: Record<string, () => Promise<string> | string> = {
    purpose: () => purpose,
    seq: () => '1',
  };
  let payload: unknown;
  const url = async (fill: Record<string, string>) => pattern.replace(/:(\w+)/g, (_, k: string) => fill[k] ?? 'none');
  const fill: Record<string, string> = { purpose: await params['purpose']!(), seq: '1' };
  const id = async (): Promise<string> => {
    if (pattern.startsWith('/v1/consents/')) return (await fresh()).consent.id;
    if (pattern.startsWith('/v1/subjects/')) return (await fresh()).subjectId;
    if (pattern.startsWith('/v1/media/')) {
      await fresh();
      const m = await v.media.ingest(admin, purpose, { name: 'm.jpg', bytes: fakePhoto(`m${Math.random()}`) });
      return m.status === 'ingested' ? m.mediaId : 'none';
    }
    if (pattern.startsWith('/v1/rights/requests/')) return (await request()).id;
    if (pattern.startsWith('/v1/agents/')) {
      const a = new TestAgent(`spare-${Math.random().toString(36).slice(2, 10)}`, BUSINESS);
      return (await v.rights.agents.add(admin, { id: a.id, name: 'spare', verifyKey: a.verifyKey })).id;
    }
    if (pattern.startsWith('/v1/models/reembed/')) {
      await reembedIdle();
      const run = await v.models.startReembed(admin);
      await reembedIdle();
      return run.id;
    }
    if (pattern.startsWith('/v1/keys/'))
      return (await v.apiKeys.create(admin, { name: 'spare', role: 'auditor', purposes: ['*'] })).key.id;
    if (pattern.startsWith('/v1/oversight/orders/')) return (await v.orders.record(admin, ORDER)).id;
    if (pattern.startsWith('/v1/oversight/breaches/')) return (await v.breaches.record(admin, BREACH)).id;
    if (pattern.startsWith('/v1/portal/enroll/'))
      return (
        await v.services.portal.start({ purpose: 'alpha', email: `q${Math.random()}@example.org`, language: 'en' })
      ).enrollmentId;
    return 'none';
  };
  if (pattern.startsWith('/v1/data-rights-request') || pattern.startsWith('/v1/drp/verify/'))
    return drpRequest(route, pattern);
  if (pattern === '/v1/agent/:agentId')
    return method === 'GET'
      ? { method: 'GET', url: `/v1/agent/${owner.id}` }
      : signed('POST', `/v1/agent/${pairer.id}`, pairer.sign(pairer.claims({ 'drp.version': '1.0' }, v.clock.now())));
  if (pattern.includes(':id')) fill['id'] = await id();
  if (pattern.startsWith('/v1/searches/')) {
    const who = `s${Math.random()}`;
    const { subjectId } = await person(v, purpose, who);
    const r = await v.search.identify(admin, { purpose, image: fakePhoto(who, '2'), justification: 'matrix' });
    Object.assign(fill, { searchId: r.searchId, face: '0', subjectId });
  }
  let u = await url(fill);
  switch (route) {
    case 'POST /v1/purposes':
      payload = {
        key: `k${Math.random().toString(36).slice(2, 8)}`,
        name: 'n',
        description: 'Twenty characters or more here.',
        lawfulBasis: 'consent',
      };
      break;
    case 'POST /v1/purposes/:purpose/suspend':
      payload = { suspended: false, reason: 'matrix test' };
      break;
    case 'POST /v1/purposes/:purpose/confirmations':
      payload = { confirmations: 0, reason: 'matrix test' };
      break;
    case 'PATCH /v1/purposes/:purpose':
      payload = { fpir: 0.02 };
      break;
    case 'POST /v1/models/reembed':
      await reembedIdle(); // one run at a time: the last caller's must have ended
      payload = { dryRun: true };
      break;
    case 'POST /v1/consents':
      payload = {
        purpose,
        noticeText: 'A notice that is long enough to be one.',
        noticeVersion: '1',
        method: 'api',
        collector: 'm',
        subjectId: (await fresh()).subjectId,
      };
      break;
    case 'POST /v1/enroll': {
      const p = await fresh();
      payload = { purpose, subjectId: p.subjectId, image: Buffer.from(fakePhoto('again')).toString('base64') };
      break;
    }
    case 'POST /v1/identify':
      payload = { purpose, image: img, justification: 'matrix', caseRef: 'M-1' };
      break;
    case 'POST /v1/verify':
      payload = { purpose, image: img, subjectId: (await fresh()).subjectId, justification: 'matrix', caseRef: 'M-1' };
      break;
    case 'POST /v1/detect':
      payload = { image: img };
      break;
    case 'POST /v1/subjects/:id/restrict':
      payload = { restricted: false, reason: 'matrix test' };
      break;
    case 'POST /v1/media':
      payload = { purpose, image: img };
      break;
    case 'POST /v1/rights/requests':
      payload = { kind: 'access', email: `s${Math.random()}@example.org` };
      break;
    case 'POST /v1/rights/requests/:id/verify':
      payload = { code: '123456' };
      break;
    case 'POST /v1/rights/requests/:id/self-service':
    case 'POST /v1/rights/requests/:id/actions':
    case 'GET /v1/rights/requests/:id/result':
    case 'GET /v1/rights/requests/:id/download': {
      const r = await request();
      u = pattern.replace(':id', r.id) + (method === 'GET' ? `?token=${r.token}` : '');
      payload = { token: r.token, ...(route.endsWith('actions') ? { kind: 'restriction' } : {}) };
      break;
    }
    case 'POST /v1/rights/requests/:id/extend':
      payload = { months: 1, reason: 'matrix test reason' };
      break;
    case 'POST /v1/rights/requests/:id/review':
      payload = { decision: 'reject', note: 'matrix test' };
      break;
    case 'POST /v1/rights/requests/:id/deny':
      payload = { reason: 'matrix test', ground: 'Art. 12(5)' };
      break;
    case 'GET /v1/audit/consistency':
      u += '?from=1&to=1';
      break;
    case 'POST /v1/agents': {
      const a = new TestAgent(`new-${Math.random().toString(36).slice(2, 10)}`, BUSINESS);
      payload = { id: a.id, name: 'new', verifyKey: a.verifyKey, callbackOrigin: 'https://agent.example' };
      break;
    }
    case 'POST /v1/keys':
      payload = { name: 'k', role: 'auditor', purposes: ['*'] };
      break;
    case 'POST /v1/oversight/retention/run':
      payload = { dryRun: true };
      break;
    case 'POST /v1/oversight/orders':
      payload = ORDER;
      break;
    case 'POST /v1/oversight/orders/:id/actions':
      payload = { kind: 'other', description: 'matrix test' };
      break;
    case 'POST /v1/oversight/breaches':
      payload = BREACH;
      break;
    case 'POST /v1/oversight/breaches/:id/notify':
      payload = { reference: 'REF-1' };
      break;
    case 'POST /v1/portal/enroll':
      payload = { purpose: 'alpha', email: `e${Math.random()}@example.org` };
      break;
    case 'POST /v1/portal/enroll/:id/confirm':
      payload = { code: '000000', consent: true, selfie: img };
      break;
    case 'POST /v1/portal/held/:id':
      payload = { decision: 'keep', note: 'matrix test' };
      break;
    case 'POST /v1/audit/verify':
      payload = {};
      break;
  }
  return {
    method: method as Req['method'],
    url: u,
    ...(payload !== undefined
      ? { payload: payload as Record<string, unknown> }
      : method === 'POST'
        ? { payload: {} }
        : {}),
  };
}

/** Waits until no re-embedding run is running (the fixtures have nothing to re-embed: a moment). */
async function reembedIdle(): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (!(await v.models.reembedRuns(admin)).some((r) => r.state === 'running')) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('a re-embedding run never ended');
}

const signed = (method: Req['method'], url: string, body: string): Req => ({
  method,
  url,
  payload: body,
  headers: { 'content-type': 'text/plain' },
});

/** A DRP request: a fresh exercise signed by the owner agent, or the status, revoke or result of one it filed. */
async function drpRequest(route: string, pattern: string): Promise<Req> {
  const [method] = route.split(' ') as [Req['method']];
  const exercise = () => owner.exercise('access', `d${Math.random()}@example.org`, {}, v.clock.now());
  if (!pattern.includes(':id')) return signed(method, pattern, exercise());
  const actor = await v.rights.agents.authenticate(agentTokens.get(owner.id));
  const id = (await v.rights.drp.exercise(actor, exercise())).request_id;
  const url = pattern.replace(':id', id);
  return method === 'DELETE' ? signed(method, url, owner.sign({ reason: 'matrix test' })) : { method, url };
}

const ORDER = {
  authority: 'CNIL',
  reference: 'M-1',
  receivedAt: '2026-06-01T00:00:00.000Z',
  deadline: '2026-08-01T00:00:00.000Z',
  demands: [{ type: 'provide-records', detail: 'records' }],
};
const BREACH = {
  discoveredAt: '2026-06-01T00:00:00.000Z',
  nature: 'Matrix test breach',
  categories: ['contact'],
  approxPeople: 1,
  approxRecords: 1,
  consequences: 'None at all',
  measures: 'Contained',
};

before(async () => {
  ({ v, mail } = await ruleVeil({ VEIL_LIMITS_PUBLIC_PER_CONTACT_PER_HOUR: '100000', VEIL_DRP_BUSINESS_ID: BUSINESS }));
  v.rights.drp.listeningAt('http://127.0.0.1:9');
  for (const a of [owner, stranger, pairer])
    await v.rights.agents.add(admin, { id: a.id, name: a.id, verifyKey: a.verifyKey });
  for (const a of [owner, stranger])
    agentTokens.set(
      a.id,
      (await v.rights.agents.pair(a.id, a.sign(a.claims({ 'drp.version': '1.0' }, v.clock.now())))).token,
    );
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  app = await buildApp({
    services: v.services,
    limits: { publicPerIpPerMinute: 100_000 },
    onRoute: (m, url) => registered.push(`${m} ${url}`),
  });
  await app.ready();
  for (const role of ROLES) {
    for (const bound of ['alpha', 'beta'] as const) {
      tokens.set(
        `${role}/${bound}`,
        (await v.apiKeys.create(actors.system('matrix'), { name: `${role}-${bound}`, role, purposes: [bound] })).token,
      );
    }
    // Bound to every purpose: what work spanning all of them needs.
    tokens.set(
      `${role}/*`,
      (await v.apiKeys.create(actors.system('matrix'), { name: `${role}-all`, role, purposes: ['*'] })).token,
    );
  }
  compat = await compatTokens(v, tokens);
});

after(async () => {
  await app?.close();
  await v?.close();
});

test('every route of every surface has an entry in the hand-written table, and every entry a route', () => {
  const routes = registered.filter(
    (r) => !INFRA.has(r) && !r.startsWith('HEAD ') && !r.includes('/docs') && !/^GET \/(\*|$)/.test(r),
  );
  const missing = routes.filter((r) => !MATRIX[r]);
  assert.deepEqual(missing, [], 'routes without an expectation: add them to MATRIX');
  assert.deepEqual(
    Object.keys(MATRIX).filter((k) => !routes.includes(k)),
    [],
    'entries without a route',
  );
});

test('every route, every role, a key bound to the right purpose and to another one: allowed or refused as the table says', async () => {
  const failures: string[] = [];
  // Each call from an address of its own: refused tokens count against their address (20 a minute).
  let n = 0;
  const as = async (req: Req, token: string | undefined) =>
    app.inject({
      ...req,
      remoteAddress: `10.${(++n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`,
      headers: { ...req.headers, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    } as never);
  for (const [route, rule] of Object.entries(MATRIX)) {
    if (COMPAT_MATRIX[route]) {
      failures.push(...(await checkCompat(app, v, route, compat.tokens, compat.alpha)));
      continue;
    }
    const anon = await app.inject((await build(route, 'alpha')) as never);
    if (rule.roles === 'agent') {
      if (anon.statusCode !== 401) failures.push(`${route} without a token -> ${anon.statusCode}`);
      for (const role of ROLES) {
        const res = await as(await build(route, 'alpha'), tokens.get(`${role}/alpha`));
        if (res.statusCode !== 401)
          failures.push(`${route} with a ${role} API key -> ${res.statusCode} (expected 401)`);
      }
      const own = await as(await build(route, 'alpha'), agentTokens.get(owner.id));
      if ([401, 403].includes(own.statusCode)) failures.push(`${route} as its agent -> ${own.statusCode} ${own.body}`);
      const other = await as(await build(route, 'alpha'), agentTokens.get(stranger.id));
      if (other.statusCode !== 403) failures.push(`${route} as another agent -> ${other.statusCode} (expected 403)`);
      continue;
    }
    if (rule.roles !== 'public') {
      const res = await as(await build(route, 'alpha'), agentTokens.get(owner.id));
      if (res.statusCode !== 401) failures.push(`${route} with an agent's token -> ${res.statusCode} (expected 401)`);
    }
    if (rule.roles === 'public') {
      if (anon.statusCode === 401 || anon.statusCode === 403) failures.push(`${route} public -> ${anon.statusCode}`);
      continue;
    }
    if (anon.statusCode !== 401) failures.push(`${route} without a key -> ${anon.statusCode}`);
    for (const role of ROLES) {
      for (const bound of ['alpha', 'beta'] as const) {
        const req = await build(route, 'alpha');
        const res = await app.inject({
          ...req,
          headers: { authorization: `Bearer ${tokens.get(`${role}/${bound}`)}` },
        } as never);
        const body = /application\/(problem\+)?json/.test(String(res.headers['content-type']))
          ? (res.json() as { code?: string })
          : {};
        // Another purpose's subject or consent reads as missing: for the wrong binding, that is a refusal too.
        const refused =
          res.statusCode === 401 ||
          res.statusCode === 403 ||
          body.code === 'UNKNOWN_SUBJECT' ||
          (bound === 'beta' && body.code === 'NOT_FOUND');
        const allowedRole = role === 'admin' || rule.roles.includes(role);
        const expectAllowed = allowedRole && rule.scoped !== 'everywhere' && (!rule.scoped || bound === 'alpha');
        if (refused === expectAllowed)
          failures.push(
            `${route} as ${role} bound to ${bound}: ${res.statusCode} ${body.code ?? ''} (expected ${expectAllowed ? 'allowed' : 'refused'})`,
          );
        else if (expectAllowed && !ran(route, res.statusCode))
          failures.push(
            `${route} as ${role} bound to ${bound}: ${res.statusCode} ${body.code ?? ''} (allowed, but did not run)`,
          );
      }
      if (rule.scoped === 'everywhere' && (role === 'admin' || rule.roles.includes(role))) {
        const req = await build(route, 'alpha');
        const res = await app.inject({
          ...req,
          headers: { authorization: `Bearer ${tokens.get(`${role}/*`)}` },
        } as never);
        if (!ran(route, res.statusCode))
          failures.push(`${route} as ${role} bound to every purpose: ${res.statusCode} (expected allowed, and to run)`);
      }
    }
  }
  assert.deepEqual(failures, []);
});

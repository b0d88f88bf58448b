import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { strFromU8, unzipSync } from 'fflate';
import { VeilClient } from '../../src/client/client.js';
import { engineEnv, face, tempDir } from '../helpers.js';
import { startSmtp } from '../../support/smtp.js';
import { spawnServer, type ServerProcess } from '../../support/server-process.js';
import { TestAgent, startCallbackReceiver, tamper } from '../../support/drp-agent.js';

/**
 * An authorized agent speaking the Data Rights Protocol to a real `veil serve` (the bin, the real
 * engine, real SMTP): its own Ed25519 key, a real callback receiver on loopback. It pairs, files an
 * access and a deletion request for an enrolled person, who proves the address (and their face)
 * on the portal's verify endpoint; it follows every state change on its callback, downloads the
 * access result, and the person is no longer matched after deletion.
 */
const BUSINESS = 'veil-e2e';
const NOTICE = 'We match your face against event photos to find the pictures you appear in.';
const PERSON = 'person@example.org';
const ENROLLED = 'face_recognition/obama/test_obama.jpg';
const SELFIE = 'face_recognition/obama/test_obama2.jpg';
const PROBE = 'face_recognition/obama/test_obama3.jpg';

describe('an authorized agent against a real server', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let rx: Awaited<ReturnType<typeof startCallbackReceiver>>;
  let server: ServerProcess;
  let admin: VeilClient;
  let subjectId: string;
  const agent = new TestAgent('e2e-agent', BUSINESS);
  const other = new TestAgent('e2e-other', BUSINESS);
  const tokens = new Map<string, string>();

  /** A DRP call: signed bodies go as text/plain, the bearer token of the agent given. */
  async function drp(method: string, path: string, opts: { body?: string; as?: TestAgent | null } = {}) {
    const who = opts.as === undefined ? agent : opts.as;
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        ...(opts.body !== undefined ? { 'content-type': 'text/plain' } : {}),
        ...(who && tokens.has(who.id) ? { authorization: `Bearer ${tokens.get(who.id)}` } : {}),
      },
      ...(opts.body !== undefined ? { body: opts.body } : {}),
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
  }

  before(async () => {
    smtp = await startSmtp();
    rx = await startCallbackReceiver({ failFirst: 1 });
    server = await spawnServer({
      VEIL_DATA_DIR: tempDir('veil-drp-'),
      VEIL_SMTP_URL: smtp.url,
      VEIL_MAIL_FROM: 'privacy@test.example',
      VEIL_DRP_BUSINESS_ID: BUSINESS,
      VEIL_DRP_LOOPBACK_CALLBACKS: 'true',
      ...(await engineEnv()),
    });
    admin = new VeilClient(server.url, server.adminToken!);
    await admin.createPurpose({
      key: 'events',
      name: 'events',
      description: 'Find the photos of you at our events.',
      lawfulBasis: 'consent',
    });
    const { consent } = await admin.giveConsent({
      purpose: 'events',
      noticeText: NOTICE,
      noticeVersion: '1',
      method: 'api',
      collector: 't',
      contactEmail: PERSON,
    });
    subjectId = (await admin.enroll({ purpose: 'events', consentId: consent.id, images: [face(ENROLLED)] })).subjectId;
    for (const [a, origin] of [
      [agent, rx.origin],
      [other, 'https://other-agent.example'],
    ] as const) {
      const res = await fetch(`${server.url}/v1/agents`, {
        method: 'POST',
        headers: { authorization: `Bearer ${server.adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ id: a.id, name: a.id, verifyKey: a.verifyKey, callbackOrigin: origin }),
      });
      assert.equal(res.status, 201, await res.text());
    }
  });

  after(async () => {
    await server?.stop();
    await rx?.close();
    await smtp?.close();
  });

  test('pair-wise key set-up: a signed message yields a token; anything else is a bare 403', async () => {
    const bad = await drp('POST', `/v1/agent/${agent.id}`, { body: tamper(agent.sign(agent.claims())), as: null });
    assert.equal(bad.status, 403);
    assert.equal(bad.text, '', 'no body on a failed set-up');
    const foreign = await drp('POST', `/v1/agent/${agent.id}`, { body: other.sign(other.claims()), as: null });
    assert.equal(foreign.status, 403);
    for (const a of [agent, other]) {
      const ok = await drp('POST', `/v1/agent/${a.id}`, { body: a.sign(a.claims({ 'drp.version': '0.9.4' })) });
      assert.equal(ok.status, 200, ok.text);
      assert.equal(ok.json()['agent-id'], a.id);
      tokens.set(a.id, ok.json().token);
    }
    assert.deepEqual((await drp('GET', `/v1/agent/${agent.id}`)).json(), {});
    assert.equal((await drp('GET', `/v1/agent/${agent.id}`, { as: other })).status, 403);
    const dir = (await drp('GET', '/v1/drp/service', { as: null })).json();
    assert.equal(dir.id, BUSINESS);
    assert.deepEqual(dir.supported_actions, ['access', 'access:categories', 'access:specific', 'deletion']);
    assert.equal(dir.api_base, server.url);
  });

  test('access: the person proves the address with the emailed code and a selfie; the DPO reviews; the agent downloads', async () => {
    const filed = await drp('POST', '/v1/data-rights-request', {
      body: agent.exercise('access', PERSON, { 'agent-request-id': 'a-1', status_callback: `${rx.origin}/drp/status` }),
    });
    assert.equal(filed.status, 200, filed.text);
    const st = filed.json();
    assert.equal(st.status, 'in_progress');
    assert.equal(st.reason, 'need_user_verification', 'email_verified from the agent is not proof');
    assert.equal(st.agent_request_id, 'a-1');
    assert.equal(st.user_verification_url, `${server.url}/#/verify/${st.request_id}`);
    // The page asks where to send the person back: only to the agent's own registered origin.
    const back = async (to: string) =>
      (await drp('GET', `/v1/drp/verify/${st.request_id}?redirect_to=${encodeURIComponent(to)}`, { as: null })).json();
    assert.equal((await back(`${rx.origin}/done`)).returnTo, `${rx.origin}/done`);
    assert.equal((await back('https://evil.example/')).returnTo, null);
    // The portal page behind user_verification_url posts the emailed code and the selfie here.
    const verify = await fetch(`${server.url}/v1/rights/requests/${st.request_id}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: smtp.codeFor(PERSON), selfies: [face(SELFIE).toString('base64')] }),
    });
    assert.equal(verify.status, 200, await verify.text());
    await rx.until(() => rx.statuses(st.request_id).length >= 1);
    // The DPO sees the request with its agent named, and the selfie's evidence, as for any request.
    const queued = await admin.getRequest(st.request_id);
    assert.equal((queued as { agentId?: string }).agentId, agent.id);
    assert.equal(queued.review?.state, 'pending');
    const waiting = (await drp('GET', `/v1/data-rights-request/${st.request_id}`)).json();
    assert.equal(waiting.status, 'in_progress');
    assert.equal(waiting.expected_by, queued.dueAt, 'the legal clock is Veil’s');
    await admin.reviewRequest(st.request_id, { decision: 'approve', note: 'the selfie is the person of the address' });
    // The DPO's review may carry the request out itself; otherwise the DPO fulfils it.
    if ((await admin.getRequest(st.request_id)).state !== 'fulfilled') await admin.fulfilRequest(st.request_id);
    await rx.until(() => rx.statuses(st.request_id).includes('fulfilled'));
    assert.deepEqual(rx.statuses(st.request_id), ['in_progress', 'fulfilled']);
    assert.equal(rx.received[0]!.path, '/drp/status');
    const done = (await drp('GET', `/v1/data-rights-request/${st.request_id}`)).json();
    assert.equal(done.status, 'fulfilled');
    const zip = await fetch(done.results_url, { headers: { authorization: `Bearer ${tokens.get(agent.id)}` } });
    assert.equal(zip.status, 200);
    // Decrypted as it is sent: a buffered answer would carry its length.
    assert.equal(zip.headers.get('transfer-encoding'), 'chunked');
    const manifest = JSON.parse(strFromU8(unzipSync(new Uint8Array(await zip.arrayBuffer()))['manifest.json']!));
    assert.equal(manifest.subjects[0].subjectId, subjectId);
    const stolen = await fetch(done.results_url, { headers: { authorization: `Bearer ${tokens.get(other.id)}` } });
    assert.equal(stolen.status, 403, 'another agent cannot download it');
  });

  test('deletion: once the address is proven the person is erased and no longer matched', async () => {
    const filed = await drp('POST', '/v1/data-rights-request', {
      body: agent.exercise('deletion', PERSON, { status_callback: `${rx.origin}/drp/status` }),
    });
    const st = filed.json();
    assert.equal(st.reason, 'need_user_verification');
    const verify = await fetch(`${server.url}/v1/rights/requests/${st.request_id}/verify`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ code: smtp.codeFor(PERSON) }),
    });
    assert.equal(verify.status, 200);
    await rx.until(() => rx.statuses(st.request_id).includes('fulfilled'));
    assert.deepEqual(rx.statuses(st.request_id), ['in_progress', 'fulfilled']);
    const hit = await admin.identify({ purpose: 'events', image: face(PROBE), justification: 'after erasure' });
    assert.equal(hit.candidates.length, 0, 'the person is no longer matched');
  });

  test('refused as the protocol says, in its error shape', async () => {
    const shape = (r: Awaited<ReturnType<typeof drp>>) => ({ status: r.status, ...r.json() });
    const body = agent.exercise('access', 'someone@example.org');
    const tampered = shape(await drp('POST', '/v1/data-rights-request', { body: tamper(body) }));
    assert.deepEqual(Object.keys(tampered).sort(), ['code', 'fatal', 'message', 'status']);
    assert.equal(tampered.code, '403');
    const past = new Date(Date.now() - 3_600_000);
    const expired = shape(
      await drp('POST', '/v1/data-rights-request', { body: agent.exercise('access', 'x@example.org', {}, past) }),
    );
    assert.deepEqual([expired.code, expired.fatal], ['400', true]);
    const elsewhere = agent.sign({
      ...agent.claims({ exercise: 'access', email: 'x@example.org' }),
      'business-id': 'acme',
    });
    assert.equal(shape(await drp('POST', '/v1/data-rights-request', { body: elsewhere })).code, '403');
    const first = await drp('POST', '/v1/data-rights-request', { body });
    assert.equal(first.status, 200);
    const replay = shape(await drp('POST', '/v1/data-rights-request', { body }));
    assert.deepEqual([replay.status, replay.code, replay.fatal], [409, '409', true]);
    const id = first.json().request_id;
    assert.equal((await drp('GET', `/v1/data-rights-request/${id}`, { as: other })).status, 403);
    assert.equal((await drp('GET', `/v1/data-rights-request/${id}`, { as: null })).status, 401);
    const sale = (
      await drp('POST', '/v1/data-rights-request', { body: agent.exercise('sale:opt-out', 'x@example.org') })
    ).json();
    assert.deepEqual([sale.status, sale.reason], ['denied', 'claim_not_covered']);
    const revoked = await drp('DELETE', `/v1/data-rights-request/${id}`, {
      body: agent.sign({ reason: 'changed my mind' }),
    });
    assert.equal(revoked.json().status, 'revoked');
    // The /v1 surface still refuses text/plain bodies.
    const plain = await fetch(`${server.url}/v1/rights/requests`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'kind=access',
    });
    assert.equal(plain.status, 415);
  });
});

import { test } from 'node:test';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { strFromU8, unzipSync } from 'fflate';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { agentRepository } from '../../src/drp/agent.repository.js';
import { drpRepository } from '../../src/drp/drp.repository.js';
import { CallbackOutbox } from '../../src/drp/callback.service.js';
import { STATE_MAP, normalizeAction } from '../../src/drp/protocol.js';
import { callbackOrigin, postCallback } from '../../src/drp/callback-http.js';
import { isVeilError } from '../../src/errors.js';
import { TestAgent, startCallbackReceiver, tamper } from '../../support/drp-agent.js';
import { admin, code, consentPurpose, fakePhoto, keyActor, person, ruleVeil } from './fixture.js';

// Authorized agents (Data Rights Protocol): signed messages, the same intake and clock, callbacks.

const BUSINESS = 'veil-rules';
const ENV = { VEIL_DRP_BUSINESS_ID: BUSINESS, VEIL_DRP_LOOPBACK_CALLBACKS: 'true' };

async function drpVeil(origin?: string) {
  const r = await ruleVeil(ENV);
  r.v.rights.drp.listeningAt('http://127.0.0.1:9');
  return { ...r, ...(await pairedAgent(r, 'agent-a', 'Agent A', origin)) };
}

async function pairedAgent(r: Awaited<ReturnType<typeof ruleVeil>>, id: string, name: string, origin?: string) {
  const agent = new TestAgent(id, BUSINESS);
  await r.v.rights.agents.add(admin, {
    id: agent.id,
    name,
    verifyKey: agent.verifyKey,
    ...(origin ? { callbackOrigin: origin } : {}),
  });
  const { token } = await r.v.rights.agents.pair(agent.id, agent.sign(agent.claims({}, r.clock.now())));
  return { agent, token, actor: await r.v.rights.agents.authenticate(token) };
}

/** The error a call fails with: its code, and whether the protocol should call it fatal. */
async function refusal(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? `${e.code}${e.details?.['fatal'] === true ? ' fatal' : ''}` : `untyped: ${String(e)}`),
  );
}

async function auditActions(v: Awaited<ReturnType<typeof ruleVeil>>['v']) {
  const size = await v.auditLog.size(v.store.db);
  return (await auditRepository.entries(v.store.db, 1, size)).map((e) => JSON.parse(e.body) as Record<string, unknown>);
}

test('only an admin registers agents; pairing needs the registered key and yields a token stored hashed', async () => {
  const { v, clock, agent, token } = await drpVeil();
  assert.equal(
    await code(v.rights.agents.add(keyActor('dpo', '*'), { id: 'x', name: 'x', verifyKey: agent.verifyKey })),
    'FORBIDDEN',
  );
  assert.equal(await code(v.rights.agents.list(keyActor('operator', '*'))), 'FORBIDDEN');
  assert.match(token, /^drp_/);
  const row = await agentRepository.get(v.store.db, agent.id);
  assert.equal(row?.token_hash, createHash('sha256').update(token).digest('hex'));
  assert.ok(!JSON.stringify(row).includes(token), 'the token itself is not stored');
  const other = new TestAgent(agent.id, BUSINESS);
  assert.equal(
    await code(v.rights.agents.pair(agent.id, other.sign(other.claims({}, clock.now())))),
    'FORBIDDEN',
    'a key other than the registered one',
  );
  assert.equal(await code(v.rights.agents.pair('nobody', agent.sign(agent.claims({}, clock.now()))))!, 'FORBIDDEN');
  // A new pairing replaces the token; a revoked agent's token stops working at once.
  const again = await v.rights.agents.pair(agent.id, agent.sign(agent.claims({ n: 2 }, clock.now())));
  assert.equal(await code(v.rights.agents.authenticate(token)), 'UNAUTHENTICATED');
  await v.rights.agents.revoke(admin, agent.id);
  assert.equal(await code(v.rights.agents.authenticate(again.token)), 'UNAUTHENTICATED');
  await v.close();
});

test('an access request is filed on the intake, on the legal clock, named in the queue, and proven by the person', async () => {
  const { v, clock, mail, agent, actor } = await drpVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'ana', { email: 'ana@example.org' });
  const st = await v.rights.drp.exercise(actor, agent.exercise('access', 'ana@example.org', {}, clock.now()));
  // email_verified from the agent is not proof: the person still proves the address.
  assert.equal(st.status, 'in_progress');
  assert.equal(st.reason, 'need_user_verification');
  assert.match(st.user_verification_url!, new RegExp(`#/verify/${st.request_id}$`));
  const queued = await v.rights.queue.get(admin, st.request_id);
  assert.equal(queued.agentId, agent.id);
  assert.equal(queued.kind, 'access');
  assert.equal(st.expected_by, queued.dueAt, 'expected_by is the legal due date');
  await v.rights.intake.verify(st.request_id, { code: mail.codeFor('ana@example.org') });
  assert.equal((await v.rights.drp.status(actor, st.request_id)).status, 'in_progress');
  await v.rights.outbox.run('me', (l) => assert.fail(l));
  const done = await v.rights.drp.status(actor, st.request_id);
  assert.equal(done.status, 'fulfilled');
  assert.match(done.results_url!, /\/results$/);
  const zip = await v.rights.drp.results(actor, st.request_id);
  const manifest = JSON.parse(strFromU8(unzipSync(new Uint8Array(zip.bytes))['manifest.json']!));
  assert.equal(manifest.subjects[0].subjectId, p.subjectId, 'the export holds the person');
  clock.advance(31 * 86_400_000);
  const later = await v.rights.drp.status(actor, st.request_id);
  assert.equal(later.status, 'expired', 'past the expires_at it gave, the result is gone');
  assert.equal(later.results_url, undefined);
  await v.close();
});

test('a deletion unmatches the enrolled person once the address is proven', async () => {
  const { v, clock, mail, agent, actor } = await drpVeil();
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'bo', { email: 'bo@example.org' });
  const st = await v.rights.drp.exercise(actor, agent.exercise('deletion', 'bo@example.org', {}, clock.now()));
  assert.equal((await subjectRepository.get(v.store.db, p.subjectId))!.state, 'active', 'nothing before proof');
  await v.rights.intake.verify(st.request_id, { code: mail.codeFor('bo@example.org') });
  await v.rights.outbox.run('me', (l) => assert.fail(l));
  assert.equal((await v.rights.drp.status(actor, st.request_id)).status, 'fulfilled');
  assert.equal((await subjectRepository.get(v.store.db, p.subjectId))!.state, 'erased');
  await v.close();
});

test('refused as the protocol says: tampered, expired, early, other business, replay, foreign agent, off-origin callback', async () => {
  const { v, clock, agent, actor } = await drpVeil('http://127.0.0.1:7001');
  const now = clock.now();
  const body = agent.exercise('access', 'cy@example.org', {}, now);
  assert.equal(await refusal(v.rights.drp.exercise(actor, tamper(body))), 'FORBIDDEN');
  assert.equal(await refusal(v.rights.drp.exercise(actor, 'not base64 at all!')), 'INVALID_INPUT');
  const past = new Date(now.getTime() - 3_600_000);
  assert.equal(
    await refusal(v.rights.drp.exercise(actor, agent.exercise('access', 'cy@example.org', {}, past))),
    'INVALID_INPUT fatal',
  );
  const future = new Date(now.getTime() + 3_600_000);
  assert.equal(
    await refusal(v.rights.drp.exercise(actor, agent.exercise('access', 'cy@example.org', {}, future))),
    'INVALID_INPUT',
  );
  const elsewhere = agent.sign({
    ...agent.claims({ exercise: 'access', email: 'cy@example.org' }, now),
    'business-id': 'x',
  });
  assert.equal(await refusal(v.rights.drp.exercise(actor, elsewhere)), 'FORBIDDEN');
  const impostor = agent.sign({
    ...agent.claims({ exercise: 'access', email: 'cy@example.org' }, now),
    'agent-id': 'b',
  });
  assert.equal(await refusal(v.rights.drp.exercise(actor, impostor)), 'FORBIDDEN');
  const ssrf = agent.exercise('access', 'cy@example.org', { status_callback: 'http://169.254.169.254/latest' }, now);
  assert.equal(await refusal(v.rights.drp.exercise(actor, ssrf)), 'INVALID_INPUT fatal');
  const st = await v.rights.drp.exercise(actor, body);
  const before = (await v.rights.queue.list(admin, {})).length;
  assert.equal(await refusal(v.rights.drp.exercise(actor, body)), 'CONFLICT fatal');
  assert.equal((await v.rights.queue.list(admin, {})).length, before, 'a replay creates nothing');
  const b = new TestAgent('agent-b', BUSINESS);
  await v.rights.agents.add(admin, { id: b.id, name: 'B', verifyKey: b.verifyKey });
  const tb = await v.rights.agents.pair(b.id, b.sign(b.claims({}, now)));
  const actorB = await v.rights.agents.authenticate(tb.token);
  assert.equal(await refusal(v.rights.drp.status(actorB, st.request_id)), 'FORBIDDEN');
  assert.equal(await refusal(v.rights.drp.results(actorB, st.request_id)), 'FORBIDDEN');
  await v.close();
});

test('sale actions are answered denied/claim_not_covered in either spelling; regime is never a reason to deny', async () => {
  const { v, clock, agent, actor } = await drpVeil();
  for (const a of ['sale:opt-out', 'sale:opt_out', 'sale:opt-in']) {
    const st = await v.rights.drp.exercise(actor, agent.exercise(a, 'di@example.org', {}, clock.now()));
    assert.equal(st.status, 'denied');
    assert.equal(st.reason, 'claim_not_covered');
  }
  const noRegime = await v.rights.drp.exercise(
    actor,
    agent.exercise('access', 'di@example.org', { regime: undefined }, clock.now()),
  );
  assert.equal(noRegime.status, 'in_progress');
  const voluntary = await v.rights.drp.exercise(
    actor,
    agent.exercise('deletion', 'di@example.org', { regime: 'voluntary' }, clock.now()),
  );
  assert.equal(voluntary.status, 'in_progress');
  assert.equal(normalizeAction(' SALE:OPT-OUT '), 'sale:opt_out');
  assert.equal(normalizeAction('sell-my-data'), null);
  await v.close();
});

test('a revoke answers revoked and withdraws the request; the status never tells a selfie matched', async () => {
  const { v, clock, mail, agent, actor } = await drpVeil();
  await consentPurpose(v, 'events');
  await person(v, 'events', 'eve');
  const st = await v.rights.drp.exercise(actor, agent.exercise('access', 'ed@example.org', {}, clock.now()));
  const rv = await v.rights.drp.revoke(actor, st.request_id, agent.sign({ reason: 'the person changed their mind' }));
  assert.equal(rv.status, 'revoked');
  assert.equal((await v.rights.queue.get(admin, st.request_id)).state, 'withdrawn');
  assert.equal(
    await refusal(v.rights.drp.revoke(actor, st.request_id, agent.sign({ reason: 'x' }))),
    'INVALID_STATE fatal',
  );
  // Two selfies, one a match and one not: the statuses read the same.
  const hit = await v.rights.drp.exercise(actor, agent.exercise('access', 'h@example.org', {}, clock.now()));
  const miss = await v.rights.drp.exercise(actor, agent.exercise('access', 'm@example.org', {}, clock.now()));
  await v.rights.intake.verify(hit.request_id, {
    code: mail.codeFor('h@example.org'),
    selfies: [fakePhoto('eve', '2')],
  });
  await v.rights.intake.verify(miss.request_id, {
    code: mail.codeFor('m@example.org'),
    selfies: [fakePhoto('nobody', '1')],
  });
  await v.rights.outbox.run('me', (l) => assert.fail(l));
  const shape = (s: Record<string, unknown>) => ({ ...s, request_id: '', results_url: '', expires_at: '' });
  const a = await v.rights.drp.status(actor, hit.request_id);
  const b = await v.rights.drp.status(actor, miss.request_id);
  assert.deepEqual(shape({ ...a }), shape({ ...b }));
  await v.close();
});

test('an extension moves expected_by, says why in processing_details, and is sent to the agent', async () => {
  const rx = await startCallbackReceiver();
  const { v, clock, mail, agent, actor } = await drpVeil(rx.origin);
  const st = await v.rights.drp.exercise(
    actor,
    agent.exercise('access', 'ex@example.org', { status_callback: `${rx.origin}/cb` }, clock.now()),
  );
  await v.rights.intake.verify(st.request_id, { code: mail.codeFor('ex@example.org'), selfies: [fakePhoto('x', '1')] });
  await v.rights.outbox.run('me');
  const extended = await v.rights.queue.extend(admin, st.request_id, 2, 'many photos to review by hand');
  await v.rights.outbox.run('me');
  const last = rx.received.at(-1)!.body;
  assert.equal(last['expected_by'], extended.extendedDueAt);
  assert.match(String(last['processing_details']), /many photos to review by hand/);
  assert.equal((await v.rights.drp.status(actor, st.request_id)).expected_by, extended.extendedDueAt);
  await rx.close();
  await v.close();
});

test("the verify page sends the person back only to the agent's registered origins", async () => {
  const { v, clock, agent, actor } = await drpVeil('https://agent.example');
  const st = await v.rights.drp.exercise(actor, agent.exercise('access', 'gi@example.org', {}, clock.now()));
  const page = (to?: string) => v.rights.drp.verifyPage(st.request_id, to);
  assert.deepEqual(await page('https://agent.example/done?r=1'), {
    agent: 'Agent A',
    returnTo: 'https://agent.example/done?r=1',
  });
  assert.equal((await page('https://evil.example/phish')).returnTo, null);
  assert.equal((await page('https://agent.example.evil.example/')).returnTo, null);
  assert.equal((await page('javascript:alert(1)')).returnTo, null);
  assert.equal((await page()).returnTo, null);
  assert.equal(await code(v.rights.drp.verifyPage('req_nope')), 'NOT_FOUND');
  assert.equal(
    await code(
      v.rights.agents.add(admin, { id: 'w', name: 'w', verifyKey: agent.verifyKey, webUrl: 'http://x.example' }),
    ),
    'INVALID_INPUT',
    'a web URL is https',
  );
  await v.close();
});

test('callbacks: every change reaches the agent in order, retried with backoff, each attempt audited without personal data', async () => {
  const rx = await startCallbackReceiver({ failFirst: 1 });
  const { v, clock, mail, agent, actor } = await drpVeil(rx.origin);
  const st = await v.rights.drp.exercise(
    actor,
    agent.exercise('deletion', 'fa@example.org', { status_callback: `${rx.origin}/drp/cb` }, clock.now()),
  );
  await v.rights.intake.verify(st.request_id, { code: mail.codeFor('fa@example.org') });
  await v.rights.outbox.run('me', (l) => assert.fail(l)); // carries it out; the first callback attempt fails (503)
  assert.deepEqual(rx.statuses(st.request_id), []);
  await v.rights.outbox.run('me', (l) => assert.fail(l)); // not due yet
  assert.deepEqual(rx.statuses(st.request_id), []);
  assert.equal(await v.rights.outbox.run('someone-else'), null, 'one sender holds the lease');
  for (let i = 0; i < 4; i++) {
    clock.advance(2_000);
    await v.rights.outbox.run('me', (l) => assert.fail(l));
  }
  assert.deepEqual(rx.statuses(st.request_id), ['in_progress', 'fulfilled']);
  assert.equal(rx.received[0]!.path, '/drp/cb');
  const attempts = (await auditActions(v)).filter((e) => e['action'] === 'agent.callback.attempted');
  assert.deepEqual(
    attempts.map((e) => (e['detail'] as Record<string, unknown>)['outcome']),
    ['retry', 'delivered', 'delivered'],
  );
  assert.ok(!JSON.stringify(attempts).includes('fa@example.org') && !JSON.stringify(attempts).includes('127.0.0.1'));
  await rx.close();
  await v.close();
});

test("due callbacks: each request's oldest pending one, only once due, so callbacks backing off never hide due ones", async () => {
  const { v } = await ruleVeil(ENV);
  const at = (s: number) => new Date(Date.parse('2026-06-01T00:00:00Z') + s * 1000).toISOString();
  await v.store.transaction(async (tx) => {
    for (const event of ['in_progress', 'fulfilled'])
      await drpRepository.enqueueCallback(tx, { requestId: 'drq_slow', agentId: 'a', event, at: at(0) });
    await drpRepository.enqueueCallback(tx, { requestId: 'drq_ok', agentId: 'b', event: 'in_progress', at: at(0) });
  });
  const shown = (cs: { request_id: string; event: string }[]) => cs.map((c) => `${c.request_id} ${c.event}`);
  const first = await drpRepository.dueCallbacks(v.store.db, at(0), 500);
  assert.deepEqual(shown(first), ['drq_slow in_progress', 'drq_ok in_progress'], 'the oldest of each request');
  // The slow request's first callback backs off for an hour: neither it nor the one behind it is due,
  // and a list of one still reaches the other request (it was the first 500 pending, due or not, before).
  assert.ok(await drpRepository.settleAttempt(v.store.db, first[0]!.seq, 0, { attempts: 1, next_at: at(3600) }));
  assert.deepEqual(shown(await drpRepository.dueCallbacks(v.store.db, at(10), 1)), ['drq_ok in_progress']);
  assert.deepEqual(shown(await drpRepository.dueCallbacks(v.store.db, at(3600), 500)), [
    'drq_slow in_progress',
    'drq_ok in_progress',
  ]);
  await v.close();
});

test("an agent that never answers holds one lane: another agent's callback goes out meanwhile", async (t) => {
  const downWhenOtherArrived: { held: number; dropped: number }[] = [];
  const down = await startCallbackReceiver({ hang: true });
  const up = await startCallbackReceiver({ onRequest: () => downWhenOtherArrived.push(down.hung()) });
  const r = await drpVeil(down.origin);
  const { v, clock, mail } = r;
  t.after(() => Promise.all([down.close(), up.close(), v.close()]));
  const other = await pairedAgent(r, 'agent-b', 'Agent B', up.origin);
  const file = async (a: typeof other, email: string, origin: string) => {
    const st = await v.rights.drp.exercise(
      a.actor,
      a.agent.exercise('deletion', email, { status_callback: `${origin}/cb` }, clock.now()),
    );
    await v.rights.intake.verify(st.request_id, { code: mail.codeFor(email) });
    return st.request_id;
  };
  await file(r, 'down@example.org', down.origin); // filed first: sent serially, it went first and blocked
  const fine = await file(other, 'up@example.org', up.origin);
  const outbox = new CallbackOutbox({
    store: v.store,
    audit: v.auditLog,
    clock,
    drp: v.rights.drp,
    agents: v.rights.agents,
    http: { loopback: true, timeoutMs: 8_000 },
  });
  await outbox.run('me', (l) => assert.fail(l));
  assert.deepEqual(up.statuses(fine), ['in_progress']);
  // Sent one after the other, the first agent's attempt had to time out (dropped) before this one went.
  assert.deepEqual(
    downWhenOtherArrived.map((d) => d.dropped),
    [0],
    "it arrived before the other agent's attempt gave up",
  );
  assert.equal(down.hung().held, 1, 'the hanging agent was tried (and given up on: the audit below)');
  const attempts = (await auditActions(v)).filter((e) => e['action'] === 'agent.callback.attempted');
  assert.deepEqual(attempts.map((e) => (e['detail'] as Record<string, unknown>)['result']).sort(), ['200', 'timeout']);
});

test('a callback answer trickled a byte at a time ends at the timeout, not when the agent stops', async (t) => {
  let stop!: () => void;
  const server = createServer((_req, res) => {
    res.writeHead(200);
    const drip = setInterval(() => res.write('.'), 50); // never idle long enough for a socket timeout
    stop = () => clearInterval(drip);
    setTimeout(() => (stop(), res.end()), 20_000).unref();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.after(() => (stop?.(), server.closeAllConnections(), server.close()));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const r = await postCallback(`${origin}/cb`, origin, { status: 'in_progress' }, { loopback: true, timeoutMs: 500 });
  assert.deepEqual(r, { ok: false, result: 'timeout' });
});

test('an attempt settles its callback only as it found it: one that outlived its lease does not undo another sender', async () => {
  const { v } = await ruleVeil(ENV);
  const at = '2026-06-01T00:00:00.000Z';
  await drpRepository.enqueueCallback(v.store.db, { requestId: 'drq_a', agentId: 'a', event: 'in_progress', at });
  const [c] = await drpRepository.dueCallbacks(v.store.db, at, 10);
  // Another process delivered it meanwhile.
  assert.ok(await drpRepository.settleAttempt(v.store.db, c!.seq, 0, { attempts: 1, status: 'delivered' }));
  // The stale attempt (it found 0 attempts) fails late: its retry must not put the callback back.
  assert.equal(await drpRepository.settleAttempt(v.store.db, c!.seq, 0, { attempts: 1, status: 'pending' }), false);
  assert.deepEqual(await drpRepository.dueCallbacks(v.store.db, '2027-01-01T00:00:00.000Z', 10), []);
  await v.close();
});

test('callback origins: https only (loopback http when allowed), never a private address or a foreign origin', async () => {
  assert.equal(callbackOrigin('https://agent.example', false), 'https://agent.example');
  assert.equal(callbackOrigin('https://agent.example/path', false), null);
  assert.equal(callbackOrigin('http://agent.example', false), null);
  assert.equal(callbackOrigin('http://127.0.0.1:8080', false), null);
  assert.equal(callbackOrigin('http://127.0.0.1:8080', true), 'http://127.0.0.1:8080');
  const policy = { loopback: false, timeoutMs: 1000 };
  assert.equal(
    (await postCallback('https://evil.example/x', 'https://agent.example', {}, policy)).result,
    'blocked-origin',
  );
  assert.equal((await postCallback('https://10.0.0.1/x', 'https://10.0.0.1', {}, policy)).result, 'blocked-address');
  assert.equal(
    (await postCallback('http://127.0.0.1:9/x', 'http://127.0.0.1:9', {}, policy)).result,
    'blocked-address',
  );
  // Every Veil state has a protocol status.
  assert.deepEqual(
    Object.values(STATE_MAP)
      .map((s) => s.status)
      .sort(),
    ['denied', 'denied', 'fulfilled', 'in_progress', 'in_progress', 'in_progress', 'open', 'revoked'],
  );
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'kysely';
import { openVeil } from '../../src/app/veil.js';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { OutboxMailer } from '../../src/rights/mailer.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { engineOptions, tempDir } from '../helpers.js';
import { admin, consentPurpose, NOTICE, person, ruleVeil } from './fixture.js';

// What an erasure or a replay cache could leave behind in clear.

test("an erased person's mail waiting in the outbox goes with them; other people's stays", async () => {
  const dir = tempDir('veil-outbox-');
  const v = await openVeil({
    ...(await engineOptions()),
    dataDir: dir,
    engine: new FakeAnalyzer(),
    env: {},
    mailer: new OutboxMailer(join(dir, 'outbox'), 'privacy@test'),
  });
  await consentPurpose(v, 'events');
  const p = await person(v, 'events', 'ola', { email: 'ola@example.org' });
  await v.rights.intake.submit({ kind: 'access', email: 'ola@example.org' });
  await v.rights.intake.submit({ kind: 'access', email: 'other@example.org' });
  const before = readdirSync(join(dir, 'outbox'));
  assert.equal(before.length, 2);
  await v.lifecycle.erase([p.subjectId], admin, null);
  const after = readdirSync(join(dir, 'outbox')).map((f) => readFileSync(join(dir, 'outbox', f), 'utf8'));
  assert.equal(after.length, 1);
  assert.match(after[0]!, /To: other@example.org/);
  await v.close();
});

test('idempotent replays keep neither a token nor a readable subject id, and still replay', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const app = await buildApp({ services: v.services });
  const token = (await v.apiKeys.create(actors.system('t'), { name: 'a', role: 'admin', purposes: ['*'] })).token;
  const h = { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': 'idem-1' };
  const key = await app.inject({
    method: 'POST',
    url: '/v1/keys',
    headers: h,
    payload: { name: 'k', role: 'auditor', purposes: ['*'] },
  });
  assert.equal(key.statusCode, 201);
  const minted = (key.json() as { token: string }).token;
  const replay = await app.inject({
    method: 'POST',
    url: '/v1/keys',
    headers: h,
    payload: { name: 'k', role: 'auditor', purposes: ['*'] },
  });
  assert.equal(replay.statusCode, 409, 'an answer with a secret is never replayed');
  assert.equal((await v.apiKeys.list(admin)).length, 2, 'and the key was not minted twice');
  const consent = { purpose: 'events', noticeText: NOTICE, noticeVersion: '1', method: 'api', collector: 'desk' };
  const c1 = await app.inject({
    method: 'POST',
    url: '/v1/consents',
    headers: { ...h, 'idempotency-key': 'idem-2' },
    payload: consent,
  });
  const c2 = await app.inject({
    method: 'POST',
    url: '/v1/consents',
    headers: { ...h, 'idempotency-key': 'idem-2' },
    payload: consent,
  });
  assert.equal(c2.headers['idempotent-replay'], 'true');
  assert.deepEqual(c2.json(), c1.json());
  const subjectId = (c1.json() as { consent: { subjectId: string } }).consent.subjectId;
  const rows = JSON.stringify((await sql`select * from idempotency`.execute(v.store.db)).rows);
  assert.ok(!rows.includes(minted.slice('veil_key_'.length + 17)), 'no token');
  assert.ok(!rows.includes(minted), 'no token');
  assert.ok(!rows.includes(subjectId), 'no subject id');
  assert.ok(!rows.includes('idem-2'), 'not even the client’s key');
  await app.close();
  await v.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { consentPurpose, NOTICE, ruleVeil } from './fixture.js';

// Idempotency-Key (review M7): concurrent retries of one request must not all execute.

const consent = { purpose: 'events', noticeText: NOTICE, noticeVersion: '1', method: 'api', collector: 'desk' };

async function setup() {
  const { v } = await ruleVeil();
  const app = await buildApp({ services: v.services });
  const token = (await v.apiKeys.create(actors.system('t'), { name: 'a', role: 'admin', purposes: ['*'] })).token;
  const post = (key: string, payload: object = consent) =>
    app.inject({
      method: 'POST',
      url: '/v1/consents',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'idempotency-key': key },
      payload,
    });
  const consents = async () =>
    Number((await sql<{ n: number }>`select count(*) as n from consents`.execute(v.store.db)).rows[0]!.n);
  return { v, app, post, consents };
}

test('eight concurrent retries with one Idempotency-Key carry the request out once', async () => {
  const { v, app, post, consents } = await setup();
  await consentPurpose(v, 'events');
  const before = await consents();
  const answers = await Promise.all(Array.from({ length: 8 }, () => post('same-key')));
  const executed = answers.filter((a) => a.statusCode === 201 && a.headers['idempotent-replay'] !== 'true');
  const busy = answers.filter((a) => a.statusCode === 409);
  assert.equal(executed.length, 1, answers.map((a) => a.statusCode).join(','));
  for (const b of busy) {
    assert.equal((b.json() as { code: string }).code, 'CONFLICT');
    assert.equal(b.headers['retry-after'], '1');
  }
  assert.equal(await consents(), before + 1, 'one consent record, not eight');
  // Once answered, a retry replays the stored answer.
  const later = await post('same-key');
  assert.equal(later.headers['idempotent-replay'], 'true');
  assert.deepEqual(later.json(), executed[0]!.json());
  assert.equal(await consents(), before + 1);
  await app.close();
  await v.close();
});

test('a request that failed leaves no claim: the same retry runs once its cause is fixed', async () => {
  const { v, app, post, consents } = await setup();
  const failed = await post('retry-key');
  assert.ok(failed.statusCode >= 400 && failed.statusCode < 500, String(failed.statusCode));
  await consentPurpose(v, 'events');
  const before = await consents();
  const again = await post('retry-key');
  assert.equal(again.statusCode, 201);
  assert.notEqual(again.headers['idempotent-replay'], 'true');
  assert.equal(await consents(), before + 1);
  // A different request under a used key is still refused.
  const other = await post('retry-key', { ...consent, collector: 'kiosk' });
  assert.equal(other.statusCode, 409);
  await app.close();
  await v.close();
});

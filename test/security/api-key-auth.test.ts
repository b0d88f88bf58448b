import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../../src/api/app.js';
import { openVeil } from '../../src/app/veil.js';
import { apiKeyRepository } from '../../src/auth/api-key.repository.js';
import { AUTH_FAILURES_PER_MINUTE } from '../../src/auth/api-keys.js';
import { legacyKeyHash } from '../../src/auth/key-secret.js';
import { engineOptions, tempDir } from '../helpers.js';

const detector = { detect: async () => ({ faces: [], width: 0, height: 0 }) } as never;

test('API key secrets: SHA-256 stored, old scrypt keys upgraded, failures rate-limited per address and key id', async () => {
  const veil = await openVeil({ ...(await engineOptions()), dataDir: tempDir(), env: {}, engine: detector });
  const app = await buildApp({ services: veil.services });
  const db = veil.store.db;
  try {
    const token = (await veil.services.apiKeys.firstAdmin())!;
    const id = /^veil_(key_[A-Za-z0-9_-]{16})_/.exec(token)![1]!;
    const secret = token.slice(`veil_${id}_`.length);
    const get = (bearer: string, ip = '198.51.100.7') =>
      app.inject({ method: 'GET', url: '/v1/keys', remoteAddress: ip, headers: { authorization: `Bearer ${bearer}` } });
    // New keys store a SHA-256 of the secret, never a slow KDF.
    assert.match((await apiKeyRepository.get(db, id))!.secret_hash, /^sha256\$[0-9a-f]{64}$/);

    // A key made before the switch still works, and is rewritten as SHA-256 on its first good use.
    const now = (await apiKeyRepository.get(db, id))!.secret_hash;
    await apiKeyRepository.setSecretHash(db, id, now, await legacyKeyHash(secret, randomBytes(16)));
    assert.match((await apiKeyRepository.get(db, id))!.secret_hash, /^scrypt\$/);
    assert.equal((await get(token, '192.0.2.1')).statusCode, 200);
    assert.match((await apiKeyRepository.get(db, id))!.secret_hash, /^sha256\$/);

    // Wrong secrets for a known (public) key id: 401s, then a typed 429 with Retry-After. (Cheap, as
    // the key is checked against the SHA-256 asserted above, not a slow KDF: no clock needed.)
    const wrong = `veil_${id}_${randomBytes(24).toString('base64url')}`;
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 3; i++) statuses.push((await get(wrong)).statusCode);
    assert.deepEqual(statuses.slice(0, AUTH_FAILURES_PER_MINUTE), Array(AUTH_FAILURES_PER_MINUTE).fill(401));
    assert.deepEqual(statuses.slice(AUTH_FAILURES_PER_MINUTE), [429, 429, 429]);
    const limited = await get(wrong);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json().code, 'RATE_LIMITED');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // The right secret still gets in, from that address or any other (key ids are public: a
    // stranger must not lock the owner out), while wrong secrets for that key id from a fresh
    // address are refused at once (the key id's own count is past its limit).
    assert.equal((await get(token)).statusCode, 200);
    assert.equal((await get(token, '192.0.2.2')).statusCode, 200);
    assert.equal((await get(wrong, '192.0.2.3')).statusCode, 429);
    // An unknown key id counts against the address too; malformed tokens cost nothing and are not counted.
    const other = (i: number) => `veil_key_${String(i).padStart(16, '0')}_${randomBytes(24).toString('base64url')}`;
    const unknown: number[] = [];
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 1; i++) unknown.push((await get(other(i), '192.0.2.9')).statusCode);
    assert.equal(unknown[0], 401);
    assert.equal(unknown.at(-1), 429);
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 1; i++)
      assert.equal((await get('veil_nope', '192.0.2.10')).statusCode, 401);
    // Over its limit, an old scrypt key is not even checked: wrong and right secrets alike wait.
    const cur = (await apiKeyRepository.get(db, id))!.secret_hash;
    await apiKeyRepository.setSecretHash(db, id, cur, await legacyKeyHash(secret, randomBytes(16)));
    veil.services.apiKeys['cache'].clear();
    assert.equal((await get(token, '192.0.2.4')).statusCode, 429);
  } finally {
    await app.close();
    await veil.close();
  }
});

test("authorized agents' bearer tokens: failures counted per address like API keys', then a typed 429", async () => {
  const veil = await openVeil({
    ...(await engineOptions()),
    dataDir: tempDir(),
    env: { VEIL_DRP_BUSINESS_ID: 'veil-test' },
    engine: detector,
  });
  const app = await buildApp({ services: veil.services });
  try {
    const get = (bearer: string, ip: string) =>
      app.inject({
        method: 'GET',
        url: '/v1/data-rights-request/req_unknown',
        remoteAddress: ip,
        headers: { authorization: `Bearer ${bearer}` },
      });
    const statuses: number[] = [];
    for (let i = 0; i < AUTH_FAILURES_PER_MINUTE + 2; i++)
      statuses.push((await get(randomBytes(32).toString('base64url'), '198.51.100.20')).statusCode);
    assert.deepEqual(statuses.slice(0, AUTH_FAILURES_PER_MINUTE), Array(AUTH_FAILURES_PER_MINUTE).fill(401));
    assert.deepEqual(statuses.slice(AUTH_FAILURES_PER_MINUTE), [429, 429]);
    const limited = await get('guess', '198.51.100.20');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
    // Another address is not held back by this one's failures.
    assert.equal((await get('guess', '198.51.100.21')).statusCode, 401);
  } finally {
    await app.close();
    await veil.close();
  }
});

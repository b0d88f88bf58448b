import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.js';
import { openVeil } from '../../src/app/veil.js';
import { trustProxyOf } from '../../src/app/server.js';
import { loadSettings } from '../../src/config/settings.js';
import { engineOptions, tempDir } from '../helpers.js';

const detector = { detect: async () => ({ faces: [], width: 0, height: 0 }) } as never;

test('behind a trusted reverse proxy, public rate limits count each client, not the proxy', async () => {
  const proxy = (v: string | undefined) => trustProxyOf(loadSettings({ VEIL_TRUST_PROXY: v }, () => '{}'));
  assert.equal(proxy(undefined), false);
  assert.throws(() => proxy('true'), /any client/);
  assert.deepEqual(proxy('10.0.0.0/8,127.0.0.1'), ['10.0.0.0/8', '127.0.0.1']);
  const veil = await openVeil({ ...(await engineOptions()), dataDir: tempDir(), env: {}, engine: detector });
  const submit = (app: Awaited<ReturnType<typeof buildApp>>, ip: string, n: number) =>
    app.inject({
      method: 'POST',
      url: '/v1/rights/requests',
      headers: { 'x-forwarded-for': ip },
      payload: { kind: 'access', email: `p${n}@example.org` },
    });
  try {
    const direct = await buildApp({ services: veil.services, limits: { publicPerIpPerMinute: 2 } });
    const proxied = await buildApp({
      services: veil.services,
      limits: { publicPerIpPerMinute: 2 },
      trustProxy: ['127.0.0.1'],
    });
    // Without trust, every client looks like the proxy: the third person is refused.
    const d = [
      await submit(direct, '198.51.100.1', 1),
      await submit(direct, '198.51.100.2', 2),
      await submit(direct, '198.51.100.3', 3),
    ];
    assert.deepEqual(
      d.map((r) => r.statusCode),
      [202, 202, 429],
    );
    // Trusting the proxy: each client has its own budget, and one client still hits its limit.
    const p = [
      await submit(proxied, '198.51.100.1', 4),
      await submit(proxied, '198.51.100.2', 5),
      await submit(proxied, '198.51.100.3', 6),
      await submit(proxied, '198.51.100.3', 7),
      await submit(proxied, '198.51.100.3', 8),
    ];
    assert.deepEqual(
      p.map((r) => r.statusCode),
      [202, 202, 202, 202, 429],
    );
    await direct.close();
    await proxied.close();
  } finally {
    await veil.close();
  }
});

// The security review's regression (M6): behind the documented nginx, whose
// $proxy_add_x_forwarded_for appends the real client to what the client sent, one client must not
// mint itself new budgets by sending a new X-Forwarded-For each time.
test('trusting any proxy is refused; trusting the named proxy, a spoofed X-Forwarded-For buys no new budget', async () => {
  const veil = await openVeil({ ...(await engineOptions()), dataDir: tempDir(), env: {}, engine: detector });
  try {
    await assert.rejects(
      buildApp({ services: veil.services, limits: { publicPerIpPerMinute: 2 }, trustProxy: true }),
      /any client/,
    );
    const app = await buildApp({
      services: veil.services,
      limits: { publicPerIpPerMinute: 2 },
      trustProxy: ['127.0.0.1'],
    });
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await app.inject({
        method: 'POST',
        url: '/v1/rights/requests',
        remoteAddress: '127.0.0.1', // nginx
        headers: { 'x-forwarded-for': `10.9.9.${i}, 203.0.113.9` }, // the client's value, then nginx's $remote_addr
        payload: { kind: 'access', email: `p${i}@example.org` },
      });
      statuses.push(r.statusCode);
    }
    await app.close();
    assert.deepEqual(statuses, [202, 202, 429, 429, 429, 429]);
  } finally {
    await veil.close();
  }
});

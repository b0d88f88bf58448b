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
  assert.equal(proxy('true'), true);
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

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.js';
import { openVeil } from '../../src/app/veil.js';
import { nulPath } from '../../src/api/nul.js';
import { engineOptions, tempDir } from '../helpers.js';

const detector = { detect: async () => ({ faces: [], width: 0, height: 0 }) } as never;

test('nulPath finds a NUL in any string or key of an input', () => {
  assert.equal(nulPath('a\u0000b', 'params.id'), 'params.id');
  assert.equal(nulPath({ a: [{ b: 'x' }, { c: 'y\u0000' }] }, 'body'), 'body.a[1].c');
  assert.equal(nulPath({ 'k\u0000': 1 }, 'body'), 'body');
  assert.equal(nulPath({ a: 'fine', n: 1, f: Buffer.from([0, 0]) }, 'body'), undefined);
});

// The review's probes (.tmp/review/pg/nul*.mjs): PostgreSQL answered 500 to each; every one must be
// a typed 400 on both engines, public routes and keyed ones, path, query and body alike.
test('a NUL character in a path parameter, query or body is a typed 400 on every surface', async () => {
  const veil = await openVeil({ ...(await engineOptions()), dataDir: tempDir(), env: {}, engine: detector });
  const app = await buildApp({ services: veil.services });
  try {
    const admin = (await veil.services.apiKeys.firstAdmin())!;
    const probes: [string, string, unknown?, boolean?][] = [
      ['GET', '/v1/subjects/a%00b', undefined, true],
      ['GET', '/v1/rights/requests/a%00b/result?token=x'],
      ['POST', '/v1/rights/requests/a%00b/resend', {}],
      ['POST', '/v1/rights/requests', { kind: 'access', email: 'nul@example.org', details: 'hi\u0000there' }],
      ['POST', '/v1/rights/requests', { kind: 'access', email: 'nul2@example.org', subjectId: 'a\u0000' }],
      ['POST', '/v1/portal/enroll', { purpose: 'a\u0000', email: 'nul3@example.org' }],
      ['GET', '/v1/purposes/a%00', undefined, true],
      ['GET', '/v1/audit/entries?subject=a%00', undefined, true],
      [
        'POST',
        '/v1/consents',
        {
          purpose: 'x',
          noticeText: 'long enough notice text here',
          noticeVersion: '1',
          method: 'api',
          collector: 'a\u0000',
        },
        true,
      ],
      [
        'POST',
        '/v1/purposes',
        {
          key: 'nulp',
          name: 'a\u0000b',
          description: 'Matching faces for nul with consent of people.',
          lawfulBasis: 'consent',
        },
        true,
      ],
      ['DELETE', '/api/v1/recognition/subjects/a%00b', undefined, true],
    ];
    for (const [method, url, payload, keyed] of probes) {
      const r = await app.inject({
        method: method as 'GET',
        url,
        ...(payload === undefined ? {} : { payload: payload as object }),
        headers: keyed ? { authorization: `Bearer ${admin}`, 'x-api-key': admin } : {},
      });
      assert.equal(r.statusCode, 400, `${method} ${url}: ${r.body}`);
      assert.match(r.body, /NUL/, `${method} ${url}: ${r.body}`);
      if (!url.startsWith('/api/')) assert.equal(r.json().code, 'INVALID_INPUT', `${method} ${url}`);
    }
  } finally {
    await app.close();
    await veil.close();
  }
});

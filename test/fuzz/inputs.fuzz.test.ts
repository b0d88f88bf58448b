import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { decode } from '../../src/face/image.js';
import { isVeilError } from '../../src/errors.js';
import { buildApp } from '../../src/api/app.js';
import { V1_ROUTES } from '../../src/api/v1/surface.js';
import { actors } from '../../src/auth/actor.js';
import type { Veil } from '../../src/app/veil.js';
import { consentPurpose, ruleVeil } from '../rules/fixture.js';
import { face } from '../helpers.js';

/**
 * Bounded property runs over what strangers send: image bytes, and JSON and multipart bodies to
 * every route. Each answer is typed (a VeilError, or a 4xx problem document), none is a 5xx, and
 * each comes back fast. Seeds are printed on failure by fast-check, so a finding can be replayed.
 */
const MAGIC = [
  [0xff, 0xd8, 0xff],
  [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a],
  [0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50],
  [0x47, 0x49, 0x46, 0x38, 0x39, 0x61],
  [0x49, 0x49, 0x2a, 0x00],
  [0x4d, 0x4d, 0x00, 0x2a],
  [0x3c, 0x73, 0x76, 0x67],
];
const JPEG = face('face_recognition/obama/test_obama.jpg');

const imageBytes = fc.oneof(
  fc.uint8Array({ maxLength: 512 }),
  fc.tuple(fc.constantFrom(...MAGIC), fc.uint8Array({ maxLength: 256 })).map(([m, t]) => new Uint8Array([...m, ...t])),
  // A real photo cut short or with bytes flipped in its header and body.
  fc
    .tuple(
      fc.integer({ min: 0, max: JPEG.length }),
      fc.array(fc.tuple(fc.nat(JPEG.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }),
    )
    .map(([cut, flips]) => {
      const b = Uint8Array.from(JPEG.subarray(0, cut));
      for (const [i, v] of flips) if (i < b.length) b[i] = v;
      return b;
    }),
);

test('image decoding: any bytes give an image or a typed error, quickly', async () => {
  await fc.assert(
    fc.asyncProperty(imageBytes, async (bytes) => {
      const t0 = performance.now();
      try {
        await decode(bytes);
      } catch (e) {
        assert.ok(isVeilError(e), `untyped error: ${String(e)}`);
      }
      assert.ok(performance.now() - t0 < 5_000, 'decoded within 5 s');
    }),
    { numRuns: 300 },
  );
});

let v: Veil;
let app: FastifyInstance;
let admin: string;

before(async () => {
  ({ v } = await ruleVeil());
  await consentPurpose(v, 'events');
  app = await buildApp({ services: v.services, limits: { publicPerIpPerMinute: 1_000_000 } });
  admin = (await v.apiKeys.create(actors.system('fuzz'), { name: 'fuzz', role: 'admin', purposes: ['*'] })).token;
});

after(async () => {
  await app?.close();
  await v?.close();
});

const value = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom('events', 'sub_AAAAAAAAAAAAAAAA', '\u0000', '\u200b', 'true', '-1', '1e309', '../../etc/passwd'),
);
const body = fc.oneof(
  fc.dictionary(
    fc.constantFrom(
      'purpose',
      'image',
      'images',
      'selfie',
      'code',
      'token',
      'kind',
      'email',
      'threshold',
      'k',
      'subjectId',
      'consentId',
      'justification',
      'caseRef',
      'months',
      'reason',
      'decision',
      'note',
      'suppressed',
      'restricted',
      'key',
      'name',
      'role',
      'purposes',
      'dryRun',
    ),
    fc.oneof(value, fc.array(value, { maxLength: 3 })),
  ),
  fc.jsonValue(),
);

test('every route answers random JSON and multipart bodies with a typed 4xx or success, never a 5xx', async () => {
  const routes = V1_ROUTES.filter((r) => r.method !== 'GET');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      body,
      fc.boolean(),
      fc.constantFrom('json', 'multipart', 'raw'),
      async (r, b, withKey, as) => {
        const url = r.url.replace(/:(\w+)/g, 'x_AAAAAAAAAAAAAAAA');
        const headers: Record<string, string> = withKey ? { authorization: `Bearer ${admin}` } : {};
        let payload: string | Buffer;
        if (as === 'json') {
          headers['content-type'] = 'application/json';
          payload = JSON.stringify(b);
        } else if (as === 'multipart') {
          headers['content-type'] = 'multipart/form-data; boundary=zz';
          const fields = b && typeof b === 'object' && !Array.isArray(b) ? Object.entries(b) : [['x', b]];
          payload =
            fields
              .map(
                ([k, val]) =>
                  `--zz\r\nContent-Disposition: form-data; name="${String(k)}"\r\n\r\n${JSON.stringify(val)}\r\n`,
              )
              .join('') + (Math.random() < 0.5 ? '--zz--\r\n' : '');
        } else {
          headers['content-type'] = 'application/json';
          payload = Buffer.from(JSON.stringify(b).slice(0, Math.max(0, JSON.stringify(b).length - 1)));
        }
        const t0 = performance.now();
        const res = await app.inject({ method: r.method, url, headers, payload });
        assert.ok(res.statusCode < 500, `${r.method} ${r.url} (${as}) -> ${res.statusCode} ${res.body.slice(0, 200)}`);
        if (res.statusCode >= 400) assert.match(String(res.headers['content-type']), /problem\+json/);
        assert.ok(performance.now() - t0 < 10_000);
      },
    ),
    { numRuns: 600 },
  );
});

test('query strings of every GET route: never a 5xx', async () => {
  const routes = V1_ROUTES.filter((r) => r.method === 'GET');
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...routes),
      fc.dictionary(
        fc.constantFrom('token', 'limit', 'cursor', 'overdue', 'from', 'to', 'lang', 'format', 'subject'),
        fc.string({ maxLength: 20 }),
      ),
      fc.boolean(),
      async (r, q, withKey) => {
        const url = r.url.replace(/:(\w+)/g, 'x_AAAAAAAAAAAAAAAA') + '?' + new URLSearchParams(q).toString();
        const res = await app.inject({
          method: 'GET',
          url,
          headers: withKey ? { authorization: `Bearer ${admin}` } : {},
        });
        assert.ok(res.statusCode < 500, `${url} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
      },
    ),
    { numRuns: 300 },
  );
});

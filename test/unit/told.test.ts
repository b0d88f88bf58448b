import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import Fastify from 'fastify';
import { scrubbed, told } from '../../src/privacy/told.js';
import { startLog } from '../../src/app/server-log.js';
import { reportError } from '../../src/cli/output.js';

// Face data goes in no log and no error: an unexpected error's text (a library's, which may quote the
// tensor or bytes it failed on) is scrubbed on every path that tells it.

const vector = Float32Array.from({ length: 512 }, (_, i) => Math.sin(i + 0.5) * 0.07);
const components = () => Array.from(vector.slice(0, 32), (x) => String(x));
const leaked = (text: string) => components().filter((c) => text.includes(c));
const forms: Record<string, string> = {
  'String(typed array)': String(vector),
  'JSON of a typed array': JSON.stringify(vector),
  'JSON of an array': JSON.stringify(Array.from(vector)),
  'quoted components': JSON.stringify(Array.from(vector, String)),
};

test('scrubbed cuts vectors, byte dumps and encoded runs out of any text, and keeps an ordinary message', () => {
  for (const [form, text] of Object.entries(forms)) {
    const out = scrubbed(`ONNX failed on input ${text} at node 12`);
    assert.deepEqual(leaked(out), [], `${form}: components left`);
    assert.match(out, /^ONNX failed on input .*at node 12$/);
  }
  const bytes = randomBytes(600);
  for (const enc of ['base64', 'base64url', 'hex'] as const) {
    const out = scrubbed(`sealed blob ${bytes.toString(enc)} refused`);
    assert.equal(out, 'sealed blob [data] refused', enc);
  }
  assert.equal(scrubbed(`decode failed: ${inspect(bytes)}`), 'decode failed: [bytes]');
  const plain = 'Model file /srv/veil/models/fr_feature.onnx is 166 MB, expected 1 file (code 3)';
  assert.equal(scrubbed(plain), plain);
  assert.equal(told(new TypeError(`bad ${String(vector)}`)).error.startsWith('TypeError: bad [numbers]'), true);
});

test("the server's request log tells a failed request's error scrubbed", async () => {
  const lines: string[] = [];
  const log = startLog({ json: false, write: (t) => lines.push(t) });
  const app = Fastify();
  log.attach(app);
  app.get('/boom', async () => {
    throw new Error(`tensor ${String(vector)}`);
  });
  await app.ready();
  const r = await app.inject({ method: 'GET', url: '/boom' });
  await app.close();
  assert.equal(r.statusCode, 500);
  const text = lines.join('');
  assert.match(text, /GET \/boom {2}500 .*\[numbers\]/);
  assert.deepEqual(leaked(text), []);
});

test("the CLI's message for an unexpected error is scrubbed", () => {
  let err = '';
  const code = reportError(new Error(`embedder output ${JSON.stringify(vector)}`), {
    out: () => undefined,
    err: (t) => (err += t),
    stderrIsTty: false,
  });
  assert.equal(code, 1);
  assert.match(err, /^veil: INTERNAL: embedder output /);
  assert.deepEqual(leaked(err), []);
});

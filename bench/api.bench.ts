// API under load: identify requests/s and latency at a 10k gallery with 2 engine workers, and
// /healthz as a floor. The server runs as its own process (`veil serve`); autocannon drives it over loopback.
import { actors } from '../src/auth/actor.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { openVeil } from '../src/app/veil.js';
import { FaceEngine } from '../src/face/engine.js';
import type { PurposeId } from '../src/ids.js';
import { seedRandomGallery, benchPurpose } from './seed.js';
import { openLoop } from './open-loop.js';
import { startServer } from './serve.js';
import { FACES } from '../support/faces.js';
import { tempDir } from '../support/database.js';

const GALLERY = 10_000;
const SECONDS = Number(process.env['API_BENCH_SECONDS'] ?? 30);
const dataDir = tempDir('veil-api-bench-');
const engine = await FaceEngine.create();
const v = await openVeil({ dataDir, engine, env: {} });
const actor = actors.system('bench');
const purpose = await benchPurpose(v, 'events');
await seedRandomGallery(v, purpose.id as PurposeId, GALLERY);
const { token } = await v.apiKeys.create(actor, { name: 'bench', role: 'operator', purposes: ['*'] });
await v.close();

const server = await startServer(dataDir);
const { url } = server;
const body = JSON.stringify({
  purpose: 'events',
  image: readFileSync(join(FACES, 'deepface_small/id01/img1.jpg')).toString('base64'),
  justification: 'load test',
});

const run = (opts: autocannon.Options) =>
  new Promise<autocannon.Result>((resolve, reject) => autocannon(opts, (e, r) => (e ? reject(e) : resolve(r))));
const health = await run({ url: `${url}/healthz`, connections: 10, duration: 5 });
// Saturation: as fast as the server answers.
const sat = await run({
  url: `${url}/v1/identify`,
  method: 'POST',
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  body,
  connections: 8,
  duration: SECONDS,
});
// Sustained at the target rate of 30 req/s, open loop (see open-loop.ts for why not autocannon's rate).
const rate = await openLoop({
  url: `${url}/v1/identify`,
  headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
  bodies: [body],
  rate: 30,
  seconds: SECONDS,
});
await server.stop();

const summary = (r: autocannon.Result) => ({
  rps: r.requests.average,
  p50: r.latency.p50,
  p99: r.latency.p99,
  errors: r.errors,
  non2xx: r.non2xx,
  timeouts: r.timeouts,
  total: r.requests.total,
});
process.stdout.write(
  JSON.stringify({
    gallery: GALLERY,
    workers: server.workers,
    seconds: SECONDS,
    healthz: summary(health),
    identifySaturated: summary(sat),
    identifyAt30: rate,
  }) + '\n',
);

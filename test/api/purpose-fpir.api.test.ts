import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { MODELS } from '../../src/face/models.js';
import {
  DEFAULT_CALIBRATION,
  DEFAULT_IMPOSTOR_TAIL,
  DEFAULT_TAIL_FITTED_ON,
} from '../../src/face/calibration.default.js';
import { admin, legalPurpose, ruleVeil } from '../rules/fixture.js';

test('PATCH /v1/purposes/:purpose sets the FPIR (problem details when out of limits); GET /v1/models counts per model', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  const app = await buildApp({ services: v.services });
  const key = async (purposes: string[]) =>
    (await v.apiKeys.create(actors.system('t'), { name: 'admin', role: 'admin', purposes })).token;
  const h = { authorization: `Bearer ${await key(['watch'])}` };
  const patch = (payload: unknown, headers = h) =>
    app.inject({ method: 'PATCH', url: '/v1/purposes/watch', headers, payload: payload as object });

  const ok = await patch({ fpir: 0.002 });
  assert.equal(ok.statusCode, 200, ok.body);
  assert.equal(ok.json().fpir, 0.002);
  assert.equal((await app.inject({ method: 'GET', url: '/v1/purposes/watch', headers: h })).json().fpir, 0.002);
  const loose = await patch({ fpir: 0.5 });
  assert.equal(loose.statusCode, 400);
  assert.equal(loose.json().code, 'INVALID_INPUT');
  assert.equal((await patch({ fpir: 0.01, name: 'renamed' })).statusCode, 400, 'only the FPIR is settable here');
  assert.equal((await v.purposes.get(admin, 'watch')).fpir, 0.002);

  // The models status spans every purpose: a key bound to one is refused, one bound to all answers.
  assert.equal((await app.inject({ method: 'GET', url: '/v1/models', headers: h })).statusCode, 403);
  await v.gallery.enroll(admin, { purpose: 'watch', sourceReference: 'file 1', images: [Buffer.from('face:a:1')] });
  const all = { authorization: `Bearer ${await key(['*'])}` };
  const models = await app.inject({ method: 'GET', url: '/v1/models', headers: all });
  assert.equal(models.statusCode, 200, models.body);
  assert.deepEqual(models.json(), {
    active: MODELS.embedder.id,
    models: [{ model: MODELS.embedder.id, templates: 1, withPhoto: 0, active: true }],
    stale: 0,
    suppressions: [],
    staleSuppressions: 0,
    calibration: {
      threshold: DEFAULT_CALIBRATION.threshold,
      strictThreshold: DEFAULT_CALIBRATION.strictThreshold,
      tail: { ...DEFAULT_IMPOSTOR_TAIL, fittedOn: DEFAULT_TAIL_FITTED_ON },
    },
  });
  // A dry run starts in the background like any other (its engine work is the same); polled until done.
  const dry = await app.inject({ method: 'POST', url: '/v1/models/reembed', headers: all, payload: { dryRun: true } });
  assert.equal(dry.statusCode, 202, dry.body);
  let run = dry.json();
  for (let i = 0; run.state === 'running' && i < 10_000; i++)
    run = (await app.inject({ method: 'GET', url: `/v1/models/reembed/${run.id}`, headers: all })).json();
  assert.deepEqual([run.state, run.progress], ['done', { done: 0, total: 0 }]);
  assert.deepEqual(run.report, {
    model: MODELS.embedder.id,
    dryRun: true,
    reembedded: 0,
    held: 0,
    reenroll: [],
    suppressionsNotCarried: 0,
  });
  await app.close();
  await v.close();
});

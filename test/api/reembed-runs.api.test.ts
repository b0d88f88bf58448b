import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/api/app.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import { ManualClock } from '../../src/clock.js';
import { FaceEngine } from '../../src/face/engine.js';
import type { FaceAnalyzer } from '../../src/face/analyzer.js';
import type { ReembedReport } from '../../src/gallery/model-switch.service.js';
import { saveTestCalibration, twinModel } from '../../support/declared-model.js';
import { faceDataIn } from '../../support/face-data-scan.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { engineOptions, face, tempDir } from '../helpers.js';
import { consentAndEnroll, engine, operator } from '../gallery/fixture.js';

// POST /v1/models/reembed starts a run in the background on the real engine (under a second model
// id, the shipped file declared again); the run is watched, refused a twin, and cancelled over HTTP.

const PEOPLE = [
  ['amy', 'kept'],
  ['penny', 'kept'],
  ['howard', 'kept'],
  ['raj', 'not-kept'],
] as const;

/** A gallery on model A (the shipped one), reopened with model B active: every template stale. */
async function switched(engineB: (e: FaceAnalyzer) => FaceAnalyzer) {
  const dataDir = tempDir('veil-api-runs-');
  const db = await engineOptions();
  let v: Veil = await openVeil({ ...db, dataDir, clock: new ManualClock(), engine: await engine(), env: {} });
  for (const key of ['kept', 'not-kept'])
    await v.purposes.create(operator, {
      key,
      name: key,
      description: `Re-embedding run test purpose ${key}, with consent.`,
      lawfulBasis: 'consent',
      keepSourceImages: key === 'kept',
    });
  // Ids differ between two galleries: reports are compared under people's names.
  const names = new Map<string, string>();
  for (const [who, purpose] of PEOPLE) {
    const r = await consentAndEnroll(v, purpose, [face(`faceapi_bbt/${who}/${who}1.png`)]);
    names.set(r.subjectId, who).set(r.consent.id, `${who}'s consent`);
  }
  await v.close();
  const decl = twinModel(tempDir('veil-twin-'));
  saveTestCalibration(decl);
  const env = { VEIL_MODELS: JSON.stringify([decl]), VEIL_EMBEDDER: decl.id };
  const gated = engineB(await FaceEngine.create({ embedder: decl }));
  const clock = new ManualClock();
  v = await openVeil({ ...db, dataDir, clock, engine: gated, env });
  const named = (r: ReembedReport) =>
    JSON.parse(JSON.stringify(r), (_k, x: unknown) => (typeof x === 'string' ? (names.get(x) ?? x) : x)) as unknown;
  return { v, named, clock };
}

async function poll(app: FastifyInstance, h: Record<string, string>, id: string) {
  for (let i = 0; i < 3000; i++) {
    const r = await app.inject({ method: 'GET', url: `/v1/models/reembed/${id}`, headers: h });
    assert.equal(r.statusCode, 200, r.body);
    if (r.json().state !== 'running') return r.json();
    await sleep(20);
  }
  throw new Error(`run ${id} never ended`);
}

test('a re-embedding run over HTTP: 202 at once, watched, one at a time, cancelled; its report is the synchronous one', async () => {
  // The report a synchronous run (the CLI's, in the foreground) gives on the same data.
  const reference = await switched((e) => e);
  const sync = await reference.v.models.reembed(actors.cli());
  await reference.v.close();
  assert.equal(sync.reembedded, 3);

  let gate!: GatedEngine;
  const { v, named, clock } = await switched((e) => (gate = new GatedEngine(e)));
  const app = await buildApp({ services: v.services });
  const key = async (purposes: string[]) =>
    (await v.apiKeys.create(actors.system('t'), { name: 'admin', role: 'admin', purposes })).token;
  const h = { authorization: `Bearer ${await key(['*'])}` };
  const start = (dryRun: boolean) =>
    app.inject({ method: 'POST', url: '/v1/models/reembed', headers: h, payload: { dryRun } });

  // A dry run, cancelled while the engine holds its first photo: it stops there.
  const dry = await start(true);
  assert.equal(dry.statusCode, 202, dry.body);
  await gate.reached(1);
  const cancel = await app.inject({ method: 'DELETE', url: `/v1/models/reembed/${dry.json().id}`, headers: h });
  assert.equal(cancel.statusCode, 202, cancel.body);
  assert.deepEqual([cancel.json().state, cancel.json().cancelRequested], ['running', true]);
  gate.release();
  const cancelled = await poll(app, h, dry.json().id);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.report.dryRun, true);
  assert.equal(gate.calls, 1, 'no photo after the cancel went to the engine');
  assert.equal((await v.models.status(operator)).stale, 4, 'a dry run changes nothing');

  // The run itself: answered before any template is done.
  gate.shut();
  clock.advance(60_000);
  const started = await start(false);
  assert.equal(started.statusCode, 202, started.body);
  const run = started.json();
  assert.deepEqual(
    { ...run, id: typeof run.id, startedAt: typeof run.startedAt },
    {
      id: 'string',
      state: 'running',
      startedAt: 'string',
      model: 'twin@1',
      dryRun: false,
      finishedAt: null,
      progress: { done: 0, total: 4 },
      cancelRequested: false,
    },
  );
  await gate.reached(2);
  const twice = await start(false);
  assert.equal(twice.statusCode, 409, twice.body);
  assert.deepEqual([twice.json().code, twice.json().runId], ['JOB_RUNNING', run.id]);
  // Meant toward a model this process does not run (a rolling switch): refused before the lease is asked for.
  const payload = { model: 'faceplugin-fr_feature@0.0.1' };
  const elsewhere = await app.inject({ method: 'POST', url: '/v1/models/reembed', headers: h, payload });
  assert.deepEqual([elsewhere.statusCode, elsewhere.json().code], [409, 'MODEL_MISMATCH'], elsewhere.body);
  const list = await app.inject({ method: 'GET', url: '/v1/models/reembed', headers: h });
  assert.deepEqual(
    list.json().items.map((r: { id: string; state: string }) => [r.id, r.state]),
    [
      [run.id, 'running'],
      [dry.json().id, 'cancelled'],
    ],
  );
  gate.release();
  const done = await poll(app, h, run.id);
  assert.equal(done.state, 'done');
  assert.deepEqual(done.progress, { done: 4, total: 4 });
  assert.deepEqual(named(done.report), reference.named(sync));
  assert.equal((await v.models.status(operator)).stale, 1, "raj's template, whose photo was not kept");

  for (const method of ['GET', 'DELETE'] as const) {
    const r = await app.inject({ method, url: '/v1/models/reembed/reemb_nosuchrun00000000', headers: h });
    assert.deepEqual([r.statusCode, r.json().code], [404, 'NOT_FOUND']);
  }
  const ended = await app.inject({ method: 'DELETE', url: `/v1/models/reembed/${run.id}`, headers: h });
  assert.deepEqual([ended.statusCode, ended.json().code], [409, 'INVALID_STATE']);
  const one = { authorization: `Bearer ${await key(['kept'])}` };
  const narrow = await app.inject({ method: 'GET', url: `/v1/models/reembed/${run.id}`, headers: one });
  assert.deepEqual([narrow.statusCode, narrow.json().code], [403, 'FORBIDDEN']);

  const log = (await v.audit.entries(operator, { limit: 1000 })).items as { action: string; detail: unknown }[];
  const runs = log.filter((e) => e.action.startsWith('models.reembed.'));
  assert.deepEqual(
    runs.map((e) => e.action),
    ['models.reembed.run', 'models.reembed.started', 'models.reembed.run', 'models.reembed.started'],
  );
  // No face data in what the runs answered or audited, found by shape whatever its name; and nothing but these keys.
  const answers = [dry.json(), cancel.json(), cancelled, run, list.json(), done];
  assert.deepEqual(faceDataIn({ answers, audited: runs.map((e) => e.detail) }), []);
  const keys = (o: object) => Object.keys(o).sort();
  assert.deepEqual(keys(done), [...keys(run), 'report'].sort());
  assert.deepEqual(keys(done.report), ['dryRun', 'held', 'model', 'reembedded', 'reenroll', 'suppressionsNotCarried']);
  const entry = ['consentId', 'purpose', 'reasons', 'sourceReference', 'subjectId', 'templates'];
  for (const e of done.report.reenroll as object[]) assert.deepEqual(keys(e), entry);
  assert.equal(log.filter((e) => e.action === 'template.reembedded').length, 3);
  await app.close();
  await v.close();
});

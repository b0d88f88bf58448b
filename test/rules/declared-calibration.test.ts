import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openVeil } from '../../src/app/veil.js';
import { buildApp } from '../../src/api/app.js';
import { actors } from '../../src/auth/actor.js';
import { ManualClock } from '../../src/clock.js';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../../src/face/calibration.default.js';
import { STRICT_FMR } from '../../src/face/model-calibration.js';
import { galleryFmr, openSetThreshold, thresholdForFmr } from '../../src/gallery/open-set.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { text } from '../../src/text/index.js';
import { saveTestCalibration, twinModel } from '../../support/declared-model.js';
import { engineEnv, engineOptions, REPO, tempDir } from '../helpers.js';
import { admin, code, fakePhoto, legalPurpose } from './fixture.js';

// A declared model's own calibration drives its open-set rule: the threshold of each identification
// comes from the impostor tail `veil faces calibrate --model --save` stored for it, never from the
// shipped model's, and a declared model without a stored tail is not started at all.

/** A tail unlike the shipped one (heavier: a model whose strangers score higher), fitted for the record. */
const OWN_TAIL = { u: 0.3, zeta: 1e-3, xi: -0.05, sigma: 0.06, comparisons: 319_400 };

class TwinAnalyzer extends FakeAnalyzer {
  override readonly modelId = 'twin@1';
}

async function declaredVeil(tail: typeof OWN_TAIL) {
  const dataDir = tempDir('veil-declared-cal-');
  const decl = twinModel(dataDir);
  saveTestCalibration(decl, { tail });
  const env = { VEIL_MODELS: JSON.stringify([decl]), VEIL_EMBEDDER: decl.id };
  const open = () =>
    engineOptions().then((db) =>
      openVeil({ ...db, dataDir, env, clock: new ManualClock(), engine: new TwinAnalyzer() }),
    );
  return { open, env, dataDir, decl };
}

test("a declared model's identifications use its stored tail: threshold and false-match rates follow it", async () => {
  const v = await (await declaredVeil(OWN_TAIL)).open();
  await legalPurpose(v, 'watch');
  const n = 60;
  for (let i = 0; i < n; i++)
    await v.gallery.enroll(admin, { purpose: 'watch', sourceReference: `file ${i}`, images: [fakePhoto(`p${i}`)] });
  await v.purposes.setFpir(admin, 'watch', 1e-4);
  const app = await buildApp({ services: v.services });
  const { token } = await v.apiKeys.create(actors.system('t'), { name: 'op', role: 'admin', purposes: ['watch'] });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/identify',
    headers: { authorization: `Bearer ${token}` },
    payload: {
      purpose: 'watch',
      image: Buffer.from(fakePhoto('p0', '2')).toString('base64'),
      justification: 'declared model test',
    },
  });
  assert.equal(res.statusCode, 200, res.body);
  const body = res.json() as {
    threshold: number;
    gallerySize: number;
    fpir: number;
    faces: { candidates: { similarity: number; estimatedFalseMatchRate: number }[] }[];
  };
  assert.equal(body.gallerySize, n);
  assert.equal(body.fpir, 1e-4);
  const tail = { ...OWN_TAIL, model: 'twin@1' };
  const minimum = DEFAULT_CALIBRATION.threshold; // the test calibration keeps the shipped 1:1 threshold
  const own = openSetThreshold({ gallerySize: n, fpir: 1e-4, tail, minimum });
  const shipped = openSetThreshold({ gallerySize: n, fpir: 1e-4, tail: DEFAULT_IMPOSTOR_TAIL, minimum });
  assert.equal(body.threshold, own);
  assert.ok(own > shipped + 0.05, `own ${own}, shipped ${shipped}: the tails must give different thresholds`);
  // The candidate's false-match rate is the stored tail's too.
  const c = body.faces[0]!.candidates[0]!;
  assert.ok(c, 'the enrolled person is found');
  const expected = Math.max(1e-6, Number(galleryFmr(tail, c.similarity, n).toPrecision(2)));
  assert.equal(c.estimatedFalseMatchRate, expected);
  assert.notEqual(expected, Math.max(1e-6, Number(galleryFmr(DEFAULT_IMPOSTOR_TAIL, c.similarity, n).toPrecision(2))));
  // Identity proof (portal, rights requests) takes the stored tail's strict threshold as well.
  assert.equal(v.calibration.strictThreshold, Math.ceil(thresholdForFmr(tail, STRICT_FMR) * 100) / 100);
  assert.notEqual(v.calibration.strictThreshold, DEFAULT_CALIBRATION.strictThreshold);
  // What an access export tells people is the stored calibration's (FMR 1e-3 at its threshold), not 7 in 10,000.
  const told = text('en').automatedMatching(v.calibration);
  assert.match(told, /model twin@1\)/);
  assert.match(told, /about 10 in 10,000/);
  await app.close();
  await v.close();
});

test('a declared model whose calibration holds no tail (an older file) is refused at start: calibrate again', async () => {
  const { open, env, dataDir, decl } = await declaredVeil(OWN_TAIL);
  await (await open()).close(); // a data directory made while the calibration held a tail
  saveTestCalibration(decl, { tail: null });
  const e = await open().then(
    () => null,
    (x: unknown) => x as Error,
  );
  assert.ok(e, 'openVeil refused');
  assert.equal(await code(Promise.reject(e)), 'MODEL_UNCALIBRATED');
  assert.match(e.message, /holds no impostor tail/);
  assert.match(e.message, /veil faces calibrate <dir> --model twin@1 --save/);
  // The CLI says the same, with the code, and exits 1.
  const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), 'faces', 'status'], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...(await engineEnv()), ...env, VEIL_DATA_DIR: dataDir },
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /MODEL_UNCALIBRATED/);
  assert.match(r.stderr, /--model twin@1 --save' again/);
});

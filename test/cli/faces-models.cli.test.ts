import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { openVeil } from '../../src/app/veil.js';
import { FaceEngine } from '../../src/face/engine.js';
import { MODELS } from '../../src/face/models.js';
import { saveTestCalibration, TEST_FIT, twinModel } from '../../support/declared-model.js';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../../src/face/calibration.default.js';
import { STRICT_FMR } from '../../src/face/model-calibration.js';
import { thresholdForFmr } from '../../src/gallery/open-set.js';
import { anyPurposeAdmin as admin } from '../../support/actors.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { engineEnv, face, REPO, tempDir } from '../helpers.js';

function veil(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [join(REPO, 'bin/veil.mjs'), ...args], {
    encoding: 'utf8',
    timeout: 120_000,
    env: { ...process.env, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** The shipped embedder's file declared under a second id, calibrated beside its copy. */
function twin(dir: string): Record<string, string> {
  const decl = twinModel(dir);
  saveTestCalibration(decl);
  return { VEIL_MODELS: JSON.stringify([decl]), VEIL_EMBEDDER: decl.id };
}

test('faces status and faces reembed: counts per model, a table or one JSON document, who must re-enroll', async () => {
  const dataDir = tempDir('veil-cli-switch-');
  const db = await engineEnv();
  const env = { ...db, VEIL_DATA_DIR: dataDir };
  const v = await openVeil({ dataDir, env, ...(db['DATABASE_URL'] ? { databaseUrl: db['DATABASE_URL'] } : {}) });
  const enroll = async (purpose: string, keep: boolean, photo: string) => {
    await v.purposes.create(admin, {
      key: purpose,
      name: purpose,
      description: `Faces for ${purpose}, with consent.`,
      lawfulBasis: 'consent',
      keepSourceImages: keep,
    });
    const { consent } = await v.consents.give(admin, {
      ...{
        purpose,
        noticeText: 'We match your face against event photos.',
        noticeVersion: '1',
        method: 'api',
        collector: 'cli test',
      },
    });
    await v.gallery.enroll(admin, { purpose, consentId: consent.id, images: [face(photo)] });
    return consent.id;
  };
  await enroll('kept', true, 'faceapi_bbt/amy/amy1.png');
  const rajConsent = await enroll('not-kept', false, 'faceapi_bbt/raj/raj1.png');
  await v.close();

  const b = { ...env, ...twin(tempDir('veil-twin-')) };
  const status = veil(b, 'faces', 'status', '--json');
  assert.equal(status.code, 0, status.err);
  assert.deepEqual(JSON.parse(status.out), {
    active: 'twin@1',
    models: [
      { model: 'twin@1', templates: 0, withPhoto: 0, active: true },
      { model: MODELS.embedder.id, templates: 2, withPhoto: 1, active: false },
    ],
    stale: 2,
    suppressions: [],
    staleSuppressions: 0,
    // The twin decides with its own stored numbers, and says what its tail was fitted on.
    calibration: {
      threshold: DEFAULT_CALIBRATION.threshold,
      strictThreshold: Math.ceil(thresholdForFmr(DEFAULT_IMPOSTOR_TAIL, STRICT_FMR) * 100) / 100,
      tail: { ...DEFAULT_IMPOSTOR_TAIL, model: 'twin@1', fittedOn: TEST_FIT },
    },
  });
  const human = veil(b, 'faces', 'status');
  assert.match(
    human.out,
    /impostor tail fitted on 400 people, 800 photos, 319400 different-person pairs \(test, 2026-01-01\)/,
  );
  assert.match(human.out, /2 template\(s\) of other models are not matched: run 'veil faces reembed'/);

  // One run at a time, the CLI's too: while a run (here a dry one, held at the engine) goes in another
  // process, the command is refused with the running run's id.
  const decl = JSON.parse((b as Record<string, string>)['VEIL_MODELS']!)[0];
  const gate = new GatedEngine(await FaceEngine.create({ embedder: decl }));
  const api = await openVeil({
    dataDir,
    env: b,
    engine: gate,
    ...(db['DATABASE_URL'] ? { databaseUrl: db['DATABASE_URL'] } : {}),
  });
  const held = await api.models.startReembed(admin, { dryRun: true });
  await gate.reached(1);
  const refused = veil(b, 'faces', 'reembed');
  assert.equal(refused.code, 1);
  assert.match(refused.err, new RegExp(`JOB_RUNNING.*${held.id}`));
  gate.release();
  // Closing stops the held run between templates and gives its lease up: the commands below run.
  await api.close();

  const table = veil(b, 'faces', 'reembed', '--dry-run');
  assert.equal(table.code, 0, table.err);
  assert.match(table.out, /would re-embed 1 template\(s\) under twin@1/);
  assert.match(table.out, new RegExp(`\\tnot-kept\\t${rajConsent}\\t1\\tphoto-not-kept`));
  const run = veil(b, 'faces', 'reembed', '--json');
  assert.equal(run.code, 0, run.err);
  const r = JSON.parse(run.out);
  assert.equal(r.reembedded, 1);
  assert.equal(r.dryRun, false);
  assert.deepEqual(
    r.reenroll.map((e: { purpose: string; consentId: string }) => [e.purpose, e.consentId]),
    [['not-kept', rajConsent]],
  );
  assert.equal(JSON.parse(veil(b, 'faces', 'status', '--json').out).stale, 1);
  // A run meant toward another model than this process's active one (a rolling switch): refused, nothing done.
  const elsewhere = veil(b, 'faces', 'reembed', '--model', 'old@1');
  assert.equal(elsewhere.code, 1);
  assert.match(elsewhere.err, /MODEL_MISMATCH.*runs twin@1, not old@1/);
  assert.equal(veil(b, 'faces', 'reembed', '--bogus').code, 2);
});

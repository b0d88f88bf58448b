import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { FaceEngine } from '../../src/face/engine.js';
import { MODELS } from '../../src/face/models.js';
import { saveTestCalibration, twinModel } from '../../support/declared-model.js';
import { faceDataIn } from '../../support/face-data-scan.js';
import { isVeilError } from '../../src/errors.js';
import { actors } from '../../src/auth/actor.js';
import { engineOptions, face, tempDir } from '../helpers.js';
import { consentAndEnroll, engine, operator } from './fixture.js';

/**
 * Model B: the shipped embedder's file declared under a second id (as scripts/accuracy/declared-model.ts
 * does), calibrated beside its copy. Its vectors equal model A's, so only the model id keeps them apart:
 * any template of A that is compared under B is a leak of the rule, not a coincidence of scores.
 */
function modelB(dir: string) {
  const decl = twinModel(dir);
  saveTestCalibration(decl);
  return { decl, env: { VEIL_MODELS: JSON.stringify([decl]), VEIL_EMBEDDER: decl.id } };
}

const probe = { image: face('faceapi_bbt/amy/amy2.png'), justification: 'model switch test' };

async function open(dataDir: string, db: { databaseUrl?: string }, env: Record<string, string>, e: FaceEngine) {
  return openVeil({ ...db, dataDir, clock: new ManualClock(), engine: e, env });
}

test('templates of another model id are never compared; a switch re-embeds kept photos and lists who must re-enroll', async () => {
  const dataDir = tempDir('veil-switch-');
  const db = await engineOptions();
  // Model A (shipped): amy under a purpose that keeps photos, raj under one that does not.
  let v: Veil = await open(dataDir, db, {}, await engine());
  for (const [key, keep] of [
    ['kept', true],
    ['not-kept', false],
  ] as const)
    await v.purposes.create(operator, {
      key,
      name: key,
      description: `Model switch test purpose ${key}, with consent.`,
      lawfulBasis: 'consent',
      keepSourceImages: keep,
    });
  const amy = await consentAndEnroll(v, 'kept', [face('faceapi_bbt/amy/amy1.png')]);
  const raj = await consentAndEnroll(v, 'not-kept', [face('faceapi_bbt/raj/raj1.png')]);
  assert.deepEqual(
    (await v.search.identify(operator, { ...probe, purpose: 'kept' })).candidates.map((c) => c.subjectId),
    [amy.subjectId],
  );
  await v.close();

  // Restarted with model B active: A's templates are neither loaded nor compared.
  const { decl, env } = modelB(tempDir('veil-twin-'));
  const twin = await FaceEngine.create({ embedder: decl });
  v = await open(dataDir, db, env, twin);
  assert.equal(v.index.size(), 0, 'the rebuild loads only the active model');
  const found = await v.search.identify(operator, { ...probe, purpose: 'kept' });
  assert.equal(found.model, 'twin@1');
  assert.deepEqual(found.candidates, []);
  const verify = v.search.verify(operator, { ...probe, purpose: 'kept', subjectId: amy.subjectId });
  await assert.rejects(verify, (e) => isVeilError(e, 'UNKNOWN_SUBJECT'));
  // The feed (another process's change) re-reads a subject: still only the active model's templates.
  await v.follower.catchUp();
  assert.equal(v.index.size(), 0);
  const before = await v.models.status(operator);
  assert.equal(before.active, 'twin@1');
  assert.equal(before.stale, 2, 'both templates need re-embedding or re-enrollment');
  assert.deepEqual(
    before.models.map((m) => [m.model, m.templates, m.active]),
    [
      ['twin@1', 0, true],
      [MODELS.embedder.id, 2, false],
    ],
  );
  // Only an admin across every purpose may switch.
  await assert.rejects(v.models.reembed({ ...operator, role: 'dpo' }), (e) => isVeilError(e, 'FORBIDDEN'));

  const dry = await v.models.reembed(operator, { dryRun: true });
  assert.equal(dry.reembedded, 1);
  assert.equal((await v.models.status(operator)).stale, 2, 'a dry run changes nothing');

  const oldPhoto = join(dataDir, 'images', amy.subjectId, `${amy.templates[0]!.templateId}.sealed`);
  assert.ok(existsSync(oldPhoto));
  const run = await v.models.reembed(actors.cli());
  assert.equal(run.reembedded, 1);
  assert.deepEqual(run.reenroll, [
    {
      subjectId: raj.subjectId,
      purpose: 'not-kept',
      consentId: raj.consent.id,
      sourceReference: null,
      templates: 1,
      reasons: ['photo-not-kept'],
    },
  ]);
  assert.deepEqual(faceDataIn(JSON.parse(JSON.stringify(run))), [], 'no face data in the report, by shape');
  assert.ok(!existsSync(oldPhoto), "the old template's photo file went with it");
  const after = await v.search.identify(operator, { ...probe, purpose: 'kept' });
  assert.deepEqual(
    after.candidates.map((c) => c.subjectId),
    [amy.subjectId],
  );
  assert.ok(after.candidates[0]!.similarity > 0.5);
  const ok = await v.search.verify(operator, { ...probe, purpose: 'kept', subjectId: amy.subjectId });
  assert.equal(ok.match, true);
  // Idempotent: nothing left to re-embed; the same people still listed.
  const again = await v.models.reembed(actors.cli());
  assert.equal(again.reembedded, 0);
  assert.deepEqual(again.reenroll, run.reenroll);
  assert.deepEqual(
    (await v.models.status(operator)).models.map((m) => [m.model, m.templates]),
    [
      ['twin@1', 1],
      [MODELS.embedder.id, 1],
    ],
  );
  const metrics = (await v.ops.metrics(operator)).find((m) => m.name === 'veil_templates_by_model')!;
  assert.deepEqual(
    metrics.values.map((x) => [x.labels, x.value]),
    [
      [`model="${MODELS.embedder.id}"`, 1],
      ['model="twin@1"', 1],
    ],
  );
  const log = (await v.audit.entries(operator, { limit: 1000 })).items as { action: string }[];
  assert.equal(log.filter((e) => e.action === 'template.reembedded').length, 1);
  assert.equal(log.filter((e) => e.action === 'models.reembed.run').length, 3, 'every run is audited, dry runs too');
  await v.close();

  // Back on model A, amy's template is now B's: A no longer finds her; raj's (A's) is loaded again.
  v = await open(dataDir, db, {}, await engine());
  assert.equal(v.index.size(), 1);
  assert.deepEqual((await v.search.identify(operator, { ...probe, purpose: 'kept' })).candidates, []);
  await v.close();
});

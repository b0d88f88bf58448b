import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, code, fakePhoto, keyActor, legalPurpose, ruleVeil, why } from './fixture.js';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../../src/face/calibration.default.js';
import { FPIR_LIMITS, openSetThreshold } from '../../src/gallery/open-set.js';

// A purpose's target FPIR: set by an admin bound to it, within FPIR_LIMITS, audited with the old and
// new value; the identification floor follows it and a client may still only raise the threshold.

const rule = (gallerySize: number, fpir: number) =>
  openSetThreshold({ gallerySize, fpir, tail: DEFAULT_IMPOSTOR_TAIL, minimum: DEFAULT_CALIBRATION.threshold });

test('an admin bound to the purpose sets its FPIR within the limits; others are refused; the change is audited', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  await legalPurpose(v, 'other');
  assert.equal((await v.purposes.get(admin, 'watch')).fpir, FPIR_LIMITS.default);

  for (const bad of [0, 1e-5, 0.051, 1, -0.01, Number.NaN, Number.POSITIVE_INFINITY])
    assert.equal(await code(v.purposes.setFpir(admin, 'watch', bad)), 'INVALID_INPUT', String(bad));
  assert.equal(await code(v.purposes.setFpir(keyActor('dpo', '*'), 'watch', 0.02)), 'FORBIDDEN');
  assert.equal(await code(v.purposes.setFpir(keyActor('operator', ['watch']), 'watch', 0.02)), 'FORBIDDEN');
  assert.equal(await code(v.purposes.setFpir(keyActor('admin', ['other']), 'watch', 0.02)), 'FORBIDDEN');
  assert.equal((await v.purposes.get(admin, 'watch')).fpir, FPIR_LIMITS.default, 'nothing refused was written');

  const bound = keyActor('admin', ['watch'], 'key_watch_admin');
  assert.equal((await v.purposes.setFpir(bound, 'watch', 0.05)).fpir, 0.05);
  assert.equal((await v.purposes.get(admin, 'watch')).fpir, 0.05);
  assert.equal((await v.purposes.get(admin, 'other')).fpir, FPIR_LIMITS.default, 'only that purpose');
  assert.equal((await v.purposes.setFpir(admin, 'watch', FPIR_LIMITS.min)).fpir, FPIR_LIMITS.min);

  const log = (await v.audit.entries(admin, { limit: 500 })).items as {
    action: string;
    actor: string;
    detail: Record<string, unknown>;
  }[];
  const changes = log.filter((e) => e.action === 'purpose.updated').reverse(); // newest first
  assert.deepEqual(
    changes.map((e) => e.detail),
    [
      { setting: 'fpir', from: FPIR_LIMITS.default, to: 0.05 },
      { setting: 'fpir', from: 0.05, to: FPIR_LIMITS.min },
    ],
  );
  await v.close();
});

test('identification follows the new FPIR, never below the calibrated threshold, and clients still only raise it', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  for (let i = 0; i < 60; i++)
    await v.gallery.enroll(admin, { purpose: 'watch', sourceReference: `file ${i}`, images: [fakePhoto(`p${i}`)] });
  const probe = { purpose: 'watch', image: fakePhoto('p0', '2'), ...why };

  await v.purposes.setFpir(admin, 'watch', FPIR_LIMITS.max);
  const loose = await v.search.identify(admin, probe);
  assert.equal(loose.fpir, FPIR_LIMITS.max);
  assert.equal(loose.threshold, rule(60, FPIR_LIMITS.max));
  assert.ok(loose.threshold >= DEFAULT_CALIBRATION.threshold, 'the loosest FPIR stays above the calibrated floor');
  // Below the floor the new FPIR sets: refused, as before.
  assert.equal(
    await code(v.search.identify(admin, { ...probe, threshold: DEFAULT_CALIBRATION.threshold - 0.01 })),
    'INVALID_INPUT',
  );

  await v.purposes.setFpir(admin, 'watch', FPIR_LIMITS.min);
  const strict = await v.search.identify(admin, probe);
  assert.equal(strict.fpir, FPIR_LIMITS.min);
  assert.equal(strict.threshold, rule(60, FPIR_LIMITS.min));
  assert.ok(strict.threshold > loose.threshold, 'a smaller FPIR is a stricter threshold');
  // A request between the loose and strict floors was allowed before, and is refused now.
  const between = (loose.threshold + strict.threshold) / 2;
  assert.equal(await code(v.search.identify(admin, { ...probe, threshold: between })), 'INVALID_INPUT');
  const raised = await v.search.identify(admin, { ...probe, threshold: strict.threshold + 0.01 });
  assert.equal(raised.threshold, strict.threshold + 0.01);
  await v.close();
});

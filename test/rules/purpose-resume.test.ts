import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openVeil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { FaceFinder } from '../../src/rights/face-finder.js';
import { DEFAULT_CALIBRATION } from '../../src/face/calibration.default.js';
import { engineOptions, tempDir } from '../helpers.js';
import { admin, code, fakePhoto, legalPurpose, why } from './fixture.js';

// A purpose suspended across a restart: its people stay findable by the rights face finder while it
// is suspended (a person must still see and erase their data), and are matched again at once when
// it is resumed, without another restart. Before, start-up left them out of the index.

test('a purpose resumed after a restart under suspension matches its people again at once', async () => {
  const dataDir = tempDir('veil-rules-resume-');
  const db = await engineOptions();
  const open = () => openVeil({ ...db, dataDir, clock: new ManualClock(), engine: new FakeAnalyzer(), env: {} });
  let v = await open();
  await legalPurpose(v, 'watch');
  const e = await v.gallery.enroll(admin, { purpose: 'watch', sourceReference: 'file 1', images: [fakePhoto('ann')] });
  await v.purposes.setSuspended(admin, 'watch', true, 'DPIA under review');
  await v.close();
  v = await open();
  const probe = { purpose: 'watch', image: fakePhoto('ann', '2'), ...why };
  assert.equal(await code(v.search.identify(admin, probe)), 'PURPOSE_SUSPENDED');
  const selfie = (await new FakeAnalyzer().analyze(fakePhoto('ann', '3'))).faces[0]!.embedding;
  assert.deepEqual(
    [...(await new FaceFinder({ ...v, threshold: DEFAULT_CALIBRATION.strictThreshold }).find(selfie)).keys()],
    [e.subjectId],
    'the rights face finder finds her under the suspended purpose',
  );
  await v.purposes.setSuspended(admin, 'watch', false, 'DPIA approved');
  const r = await v.search.identify(admin, probe);
  assert.deepEqual(
    r.candidates.map((c) => c.subjectId),
    [e.subjectId],
  );
  await v.close();
});

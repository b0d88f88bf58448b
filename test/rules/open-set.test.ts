import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, code, consentPurpose, fakePhoto, legalPurpose, ruleVeil, why } from './fixture.js';
import { DEFAULT_CALIBRATION, DEFAULT_IMPOSTOR_TAIL } from '../../src/face/calibration.default.js';
import { galleryFmr, openSetThreshold } from '../../src/gallery/open-set.js';
import type { Veil } from '../../src/app/veil.js';

// The open-set rule: an identification's threshold comes from the purpose's FPIR and the number of
// templates it searches; clients may raise it, never lower it; the record keeps what it came from.

const rule = (gallerySize: number, fpir = 0.01) =>
  openSetThreshold({ gallerySize, fpir, tail: DEFAULT_IMPOSTOR_TAIL, minimum: DEFAULT_CALIBRATION.threshold });

async function enroll(v: Veil, purpose: string, people: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < people; i++) {
    const images = [fakePhoto(`p${i}`)];
    ids.push((await v.gallery.enroll(admin, { purpose, sourceReference: `file ${i}`, images })).subjectId);
  }
  return ids;
}

test('the threshold follows the gallery size and the purpose FPIR, and the response and record say so', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  const [p0] = await enroll(v, 'watch', 3);
  const small = await v.search.identify(admin, { purpose: 'watch', image: fakePhoto('p0', '2'), ...why });
  assert.equal(small.gallerySize, 3);
  assert.equal(small.fpir, 0.01);
  assert.equal(small.threshold, rule(3));
  assert.deepEqual(
    small.candidates.map((c) => c.subjectId),
    [p0],
  );
  // The candidate's false-match rate is corrected for the gallery it was found in.
  const c = small.candidates[0]!;
  assert.equal(
    c.estimatedFalseMatchRate,
    Math.max(1e-6, Number(galleryFmr(DEFAULT_IMPOSTOR_TAIL, c.similarity, 3).toPrecision(2))),
  );

  await enroll(v, 'watch', 40);
  const big = await v.search.identify(admin, { purpose: 'watch', image: fakePhoto('p0', '2'), ...why });
  assert.equal(big.gallerySize, 43);
  assert.equal(big.threshold, rule(43));
  assert.ok(big.threshold >= small.threshold);

  const row = await v.store.db
    .selectFrom('searches')
    .selectAll()
    .where('id', '=', big.searchId)
    .executeTakeFirstOrThrow();
  assert.equal(row.gallery_size, 43);
  assert.equal(row.fpir, 0.01);
  assert.equal(row.threshold, big.threshold);
  await v.close();
});

test('a client may raise the threshold above the rule, never lower it', async () => {
  const { v } = await ruleVeil();
  await legalPurpose(v, 'watch');
  await enroll(v, 'watch', 2);
  const floor = rule(2);
  const probe = { purpose: 'watch', image: fakePhoto('p1', '2'), ...why };
  assert.equal(await code(v.search.identify(admin, { ...probe, threshold: floor - 0.01 })), 'INVALID_INPUT');
  const r = await v.search.identify(admin, { ...probe, threshold: Math.min(1, floor + 0.05) });
  assert.equal(r.threshold, Math.min(1, floor + 0.05));
  // Verification keeps its per-comparison floor.
  const s = (await v.search.identify(admin, probe)).candidates[0]!.subjectId;
  const ver = await v.search.verify(admin, { ...probe, subjectId: s });
  assert.equal(ver.threshold, DEFAULT_CALIBRATION.threshold);
  await v.close();
});

test('a purpose sets its FPIR within limits: stricter raises the threshold', async () => {
  const { v } = await ruleVeil();
  assert.equal(await code(consentPurpose(v, 'loose', { fpir: 0.2 })), 'INVALID_INPUT');
  assert.equal(await code(consentPurpose(v, 'tight-0', { fpir: 1e-6 })), 'INVALID_INPUT');
  await legalPurpose(v, 'default');
  await v.purposes.create(admin, {
    key: 'strict',
    name: 'strict',
    description: 'Watchlist strict under a legal obligation.',
    lawfulBasis: 'legal-obligation',
    art9Condition: 'substantial-public-interest',
    legalReference: 'Act 12 s.3',
    fpir: 0.001,
  });
  for (const p of ['default', 'strict']) await enroll(v, p, 5);
  const image = fakePhoto('p0', '2');
  const d = await v.search.identify(admin, { purpose: 'default', image, ...why });
  const s = await v.search.identify(admin, { purpose: 'strict', image, ...why });
  assert.equal(s.fpir, 0.001);
  assert.equal(s.threshold, rule(5, 0.001));
  assert.ok(s.threshold >= d.threshold);
  await v.close();
});

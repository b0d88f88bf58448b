import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isVeilError } from '../../src/errors.js';
import { admin, code, legalPurpose } from './fixture.js';
import { fakeFaces, sizedVeil, type FakeFace } from './faces.fixture.js';
import type { Veil } from '../../src/app/veil.js';

// The enrollment gate: a face that clearly dominates a photo is enrolled (and the answer says which
// box); otherwise MULTIPLE_FACES lists every box and the caller picks one on retry. Operators'
// photos pass the `import` gate, which refuses only what would really fail; `selfie` is strict.

const enroll = (v: Veil, faces: readonly FakeFace[], extra: Record<string, unknown> = {}) =>
  v.gallery.enroll(admin, { purpose: 'watch', sourceReference: 'file 1', images: [fakeFaces(...faces)], ...extra });

async function details(p: Promise<unknown>): Promise<Record<string, unknown>> {
  try {
    await p;
  } catch (e) {
    if (isVeilError(e)) return { code: e.code, ...e.details };
    throw e;
  }
  return { code: 'OK' };
}

test('a face much larger than the others, which are too small to enroll, is enrolled and its box reported', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'watch');
  // Engine order puts the small background faces first: the rule is about size, not order.
  const r = await enroll(v, [
    ['passer', 'g', 40],
    ['amy', '1', 160],
    ['other', 'g', 60],
  ]);
  assert.equal(r.templates.length, 1);
  assert.equal(r.templates[0]!.face, 'dominant');
  assert.equal(r.templates[0]!.box.height, 160);
  const alone = await enroll(v, [['bea', '1', 160]]);
  assert.equal(alone.templates[0]!.face, 'only');
  await v.close();
});

test('no face dominates: MULTIPLE_FACES lists every box, and the caller picks one by index or by box', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'watch');
  // A second face large enough to be someone's enrollment photo is never ignored, even if half the size.
  const photo: FakeFace[] = [
    ['amy', '1', 200],
    ['bob', '1', 100],
  ];
  const refused = await details(enroll(v, photo));
  assert.equal(refused['code'], 'MULTIPLE_FACES');
  const boxes = refused['boxes'] as { index: number; height: number; x: number; y: number; width: number }[];
  assert.deepEqual(
    boxes.map((b) => [b.index, b.height]),
    [
      [0, 200],
      [1, 100],
    ],
  );
  // Similar sizes: ambiguous too.
  assert.equal(
    await code(
      enroll(v, [
        ['amy', '1', 150],
        ['cat', '1', 120],
      ]),
    ),
    'MULTIPLE_FACES',
  );
  const byIndex = await enroll(v, photo, { faces: [1] });
  assert.deepEqual([byIndex.templates[0]!.face, byIndex.templates[0]!.box.height], ['picked', 100]);
  const b0 = boxes[0]!;
  const box = { x: b0.x, y: b0.y, width: b0.width, height: b0.height };
  const byBox = await enroll(v, photo, { faces: [box] });
  assert.deepEqual([byBox.templates[0]!.face, byBox.templates[0]!.box.height], ['picked', 200]);
  assert.equal(await code(enroll(v, photo, { faces: [5] })), 'MULTIPLE_FACES', 'a face that is not there');
  assert.equal(
    await code(enroll(v, photo, { faces: [{ x: 2000, y: 2000, width: 10, height: 10 }] })),
    'MULTIPLE_FACES',
  );
  await v.close();
});

test('the import gate refuses only what would fail; the selfie gate is strict', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'watch');
  // Sharpness 30, face 110 px: a usable news photo (today's gate refused it as too blurred).
  const soft: FakeFace = ['amy', '1', 110, { sharpness: 30, eyeDistance: 36 }];
  assert.equal((await enroll(v, [soft])).templates.length, 1);
  assert.equal(await code(enroll(v, [soft], { gate: 'selfie' })), 'LOW_QUALITY');
  // What even import refuses: eyes 20 px apart (the template misses its owner far more often).
  assert.deepEqual(await details(enroll(v, [['bob', '1', 110, { eyeDistance: 20 }]])), {
    code: 'LOW_QUALITY',
    image: 1,
    reasons: ['EYES_TOO_CLOSE'],
  });
  await v.close();
});

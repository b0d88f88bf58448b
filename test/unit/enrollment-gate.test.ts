import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  chooseEnrollmentFace,
  enrollability,
  enrollmentFace,
  requireGate,
  ENROLLMENT_GATES,
} from '../../src/gallery/enrollment-gate.js';
import { isVeilError } from '../../src/errors.js';
import type { FaceQuality } from '../../src/face/quality.js';

const good: FaceQuality = {
  faceSize: 200,
  eyeDistance: 70,
  detectorScore: 0.99,
  sharpness: 300,
  yaw: 2,
  roll: 1,
  pitch: 3,
};
const face = (x: number, height: number, q: Partial<FaceQuality> = {}) => ({
  box: { x, y: 10, width: height * 0.8, height },
  quality: { ...good, faceSize: height, eyeDistance: height * 0.35, ...q },
});

test('a photo with one face enrolls it; with none there is nothing to choose', () => {
  assert.deepEqual(chooseEnrollmentFace([face(0, 200)]), { kind: 'face', index: 0, why: 'only' });
  assert.deepEqual(chooseEnrollmentFace([]), { kind: 'none' });
});

test('a face that dominates (twice as tall, the others too small to enroll) is chosen and said to be', () => {
  const c = chooseEnrollmentFace([face(0, 40), face(100, 220), face(400, 50)]);
  assert.deepEqual(c, { kind: 'face', index: 1, why: 'dominant' });
});

test('two faces of enrollable size are ambiguous even when one is much larger: every box comes back', () => {
  const c = chooseEnrollmentFace([face(0, 400), face(500, 100)]);
  assert.equal(c.kind, 'ambiguous');
  assert.equal(c.kind === 'ambiguous' && c.boxes.length, 2);
});

test('two faces of similar size are ambiguous; the MULTIPLE_FACES error lists each box with its index', () => {
  const faces = [face(0, 60), face(300, 70)];
  assert.throws(
    () => enrollmentFace(faces, 1),
    (e: unknown) =>
      isVeilError(e, 'MULTIPLE_FACES') &&
      Array.isArray(e.details?.['boxes']) &&
      (e.details['boxes'] as { index: number }[]).map((b) => b.index).join() === '0,1',
  );
});

test('the caller picks a face by index or by a box overlapping it by half; a wrong pick is refused', () => {
  const faces = [face(0, 60), face(300, 70)];
  assert.equal(enrollmentFace(faces, 1, 1).index, 1);
  assert.equal(enrollmentFace(faces, 1, { x: 305, y: 12, width: 56, height: 70 }).index, 1);
  assert.throws(
    () => enrollmentFace(faces, 1, 5),
    (e: unknown) => isVeilError(e, 'MULTIPLE_FACES'),
  );
  assert.throws(
    () => enrollmentFace(faces, 1, { x: 1000, y: 1000, width: 10, height: 10 }),
    (e: unknown) => isVeilError(e, 'MULTIPLE_FACES'),
  );
});

test('import is looser than selfie: a slightly blurred, turned face enrolls from an operator, not from the portal', () => {
  const q = { ...good, sharpness: 25, yaw: 40 };
  assert.doesNotThrow(() => requireGate(q, 1, ENROLLMENT_GATES.import));
  assert.throws(
    () => requireGate(q, 1, ENROLLMENT_GATES.selfie),
    (e: unknown) => isVeilError(e, 'LOW_QUALITY') && String(e.details?.['reasons']).length > 0,
  );
});

test('detection reports enrollability under the import gate enrollment uses, and under the selfie gate', () => {
  assert.deepEqual(enrollability({ ...good, sharpness: 25 }), {
    enrollable: true,
    reasons: [],
    enrollableAsSelfie: false,
  });
  const tiny = enrollability({ ...good, faceSize: 30, eyeDistance: 10 });
  assert.equal(tiny.enrollable, false);
  assert.ok(tiny.reasons.length >= 1);
  assert.equal(tiny.enrollableAsSelfie, false);
  assert.deepEqual(enrollability(good), { enrollable: true, reasons: [], enrollableAsSelfie: true });
});

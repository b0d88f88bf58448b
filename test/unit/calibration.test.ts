import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrate, estimatedFmr, normalTail, ratesAt, rocAuc } from '../../src/face/calibration.js';

test('rocAuc is 1 for separated scores, 0.5 for identical ones, and counts ties as halves', () => {
  assert.equal(rocAuc([0.9, 0.8], [0.1, 0.2]), 1);
  assert.equal(rocAuc([0.5, 0.5], [0.5, 0.5]), 0.5);
  assert.equal(rocAuc([0.3], [0.1, 0.5]), 0.5);
});

test('ratesAt counts impostors at or above and genuines below the threshold', () => {
  const r = ratesAt([0.2, 0.6, 0.9], [0.1, 0.5, 0.7, 0.3], 0.5);
  assert.equal(r.fmr, 2 / 4);
  assert.equal(r.fnmr, 1 / 3);
});

test('normalTail matches known values', () => {
  assert.ok(Math.abs(normalTail(0) - 0.5) < 1e-7);
  assert.ok(Math.abs(normalTail(1.96) - 0.025) < 1e-4);
  assert.ok(Math.abs(normalTail(-1.96) - 0.975) < 1e-4);
});

test('calibrate picks a threshold meeting the target on both the sample and the fitted tail', () => {
  const impostor = Array.from({ length: 2000 }, (_, i) => Math.sin(i * 12.9898) * 0.15);
  const genuine = Array.from({ length: 200 }, (_, i) => 0.6 + Math.sin(i * 78.233) * 0.2);
  const c = calibrate('m', genuine, impostor, 1e-3);
  assert.ok(c.operatingPoint.fmr <= 1e-3);
  assert.ok(estimatedFmr(c, c.operatingPoint.threshold) <= 1e-3);
  assert.ok(
    estimatedFmr(c, c.operatingPoint.threshold - 0.01) > 1e-3 ||
      ratesAt(genuine, impostor, c.operatingPoint.threshold - 0.01).fmr > 1e-3,
  );
  assert.equal(c.genuinePairs, 200);
});

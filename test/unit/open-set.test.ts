import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  FPIR_LIMITS,
  comparisonFmr,
  fitImpostorTail,
  galleryFmr,
  openSetThreshold,
  thresholdForFmr,
  type ImpostorTail,
} from '../../src/gallery/open-set.js';

/** Deterministic standard normals (Box-Muller over a fixed LCG). */
function normals(n: number, mean: number, std: number): Float64Array {
  let seed = 12345;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = mean + std * Math.sqrt(-2 * Math.log(rnd())) * Math.cos(2 * Math.PI * rnd());
  return out;
}

const TAIL: ImpostorTail = { model: 'm', u: 0.3, zeta: 1e-3, xi: -0.2, sigma: 0.03, comparisons: 1e6 };

test('the fitted tail reproduces the sample tail it was fitted on', () => {
  const s = normals(400_000, 0, 0.1);
  const tail = fitImpostorTail('m', s);
  const sorted = [...s].sort((a, b) => b - a);
  for (const k of [100, 200]) {
    const observed = k / s.length;
    const predicted = comparisonFmr(tail, sorted[k]!);
    assert.ok(predicted / observed > 0.5 && predicted / observed < 2, `at rank ${k}: ${predicted} vs ${observed}`);
  }
});

test('thresholdForFmr inverts comparisonFmr', () => {
  for (const p of [1e-4, 1e-6, 1e-8]) {
    const t = thresholdForFmr(TAIL, p);
    assert.ok(Math.abs(comparisonFmr(TAIL, t) / p - 1) < 1e-6);
  }
  assert.equal(thresholdForFmr(TAIL, 0.5), TAIL.u);
});

test('the threshold grows with the gallery and with a stricter FPIR', () => {
  const at = (gallerySize: number, fpir = 0.01) => openSetThreshold({ gallerySize, fpir, tail: TAIL, minimum: 0 });
  assert.ok(at(100) < at(10_000));
  assert.ok(at(10_000) < at(1_000_000));
  assert.ok(at(10_000, 0.01) < at(10_000, 0.001));
  // FPIR / N per comparison: a gallery of 10,000 at 1% is a per-comparison rate of 1e-6.
  assert.ok(Math.abs(at(10_000) - thresholdForFmr(TAIL, 1e-6)) <= 1e-4);
  // An empty gallery searches like a gallery of one.
  assert.equal(at(0), at(1));
});

test('the threshold is never below the minimum and is rounded up', () => {
  assert.equal(openSetThreshold({ gallerySize: 1, fpir: 0.05, tail: TAIL, minimum: 0.41 }), 0.41);
  const t = openSetThreshold({ gallerySize: 5000, fpir: 0.01, tail: TAIL, minimum: 0 });
  assert.equal(Math.round(t * 1e4), t * 1e4);
  assert.ok(t >= thresholdForFmr(TAIL, 0.01 / 5000));
});

test('an FPIR outside the limits is refused', () => {
  for (const fpir of [0, FPIR_LIMITS.min / 2, FPIR_LIMITS.max * 2, Number.NaN])
    assert.throws(() => openSetThreshold({ gallerySize: 10, fpir, tail: TAIL, minimum: 0 }));
});

test('galleryFmr is the per-comparison rate times the gallery, capped at 1', () => {
  const s = thresholdForFmr(TAIL, 1e-7);
  assert.ok(Math.abs(galleryFmr(TAIL, s, 1000) / 1e-4 - 1) < 1e-6);
  assert.equal(galleryFmr(TAIL, -1, 1000), 1);
  // At the rule's own threshold the gallery-corrected rate is the FPIR it targets.
  const t = openSetThreshold({ gallerySize: 2000, fpir: 0.01, tail: TAIL, minimum: 0 });
  assert.ok(galleryFmr(TAIL, t, 2000) <= 0.01);
});

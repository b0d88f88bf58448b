import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CALIBRATION_MINIMUMS,
  fitCalibrationSet,
  requireCalibrationSet,
  setSize,
} from '../../src/face/calibration-set.js';
import { calibrate, ratesAt } from '../../src/face/calibration.js';
import { cosine } from '../../src/face/embedder.js';
import { fitImpostorTail } from '../../src/gallery/open-set.js';
import { isVeilError } from '../../src/errors.js';

/** Seeded normal-ish numbers (sum of uniforms), so every run fits the same set. */
function rng(seed: number) {
  let s = seed;
  const u = () => ((s = (s * 1103515245 + 12345) % 2 ** 31), s / 2 ** 31);
  return () => u() + u() + u() + u() - 2;
}

/** `people` identities of `photos` each: a random direction per person plus noise per photo, unit length. */
function labelledSet(people: number, photos: number, dims = 32) {
  const r = rng(7);
  const out: { identity: string; e: Float32Array }[] = [];
  for (let p = 0; p < people; p++) {
    const centre = Array.from({ length: dims }, r);
    for (let k = 0; k < photos; k++) {
      const v = Float32Array.from(centre, (c) => c + 0.6 * r());
      const n = Math.hypot(...v);
      out.push({ identity: `p${p}`, e: v.map((x) => x / n) });
    }
  }
  return out;
}

const tooSmall = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (isVeilError(e, 'CALIBRATION_SET_TOO_SMALL')) return e;
    throw e;
  }
  return null;
};

test('setSize counts people, photos and the same- and different-person pairs a folder will give', () => {
  assert.deepEqual(setSize(['a', 'a', 'a', 'b', 'c', 'c']), {
    identities: 3,
    photos: 6,
    genuinePairs: 3 + 1,
    impostorPairs: 15 - 4,
  });
});

test('a threshold at FMR F needs 10 / F different-person pairs; the error names what was found and needed', () => {
  const at = (impostorPairs: number) => ({ identities: 50, photos: 200, genuinePairs: 100, impostorPairs });
  assert.equal(
    tooSmall(() => requireCalibrationSet(at(10_000), 1e-3, false)),
    null,
  );
  const e = tooSmall(() => requireCalibrationSet(at(9_999), 1e-3, false));
  assert.ok(e, '9,999 pairs are refused at 1e-3');
  assert.match(e.message, /9,999 different-person pairs, 10,000 needed/);
  assert.deepEqual(e.details, { found: at(9_999), needed: { impostorPairs: 10_000 } });
  // A looser target needs fewer pairs; a stricter one more.
  assert.equal(
    tooSmall(() => requireCalibrationSet(at(1_000), 1e-2, false)),
    null,
  );
  assert.match(tooSmall(() => requireCalibrationSet(at(99_999), 1e-4, false))!.message, /100,000 needed/);
  // Nobody with two photos, or one person only: nothing to measure.
  const none = tooSmall(() =>
    requireCalibrationSet({ identities: 1, photos: 1, genuinePairs: 0, impostorPairs: 0 }, 0.5, false),
  );
  assert.match(none!.message, /1 people, 2 needed/);
  assert.match(none!.message, /0 same-person pairs, 1 needed/);
});

test('an impostor tail needs 400 people and 200,000 different-person pairs, both', () => {
  const m = CALIBRATION_MINIMUMS;
  const ok = { identities: m.tailIdentities, photos: 700, genuinePairs: 300, impostorPairs: m.tailImpostorPairs };
  assert.equal(
    tooSmall(() => requireCalibrationSet(ok, 1e-3, true)),
    null,
  );
  const few = tooSmall(() => requireCalibrationSet({ ...ok, identities: 399 }, 1e-3, true));
  assert.match(few!.message, /399 people, 400 needed \(an impostor tail needs that many people\)/);
  // Many photos of few people: pairs enough, people not.
  const narrow = { identities: 100, photos: 3_000, genuinePairs: 45_000, impostorPairs: 4_455_000 };
  assert.ok(tooSmall(() => requireCalibrationSet(narrow, 1e-3, true)));
  assert.equal(
    tooSmall(() => requireCalibrationSet(narrow, 1e-3, false)),
    null,
    'enough for a threshold alone',
  );
  const pairs = tooSmall(() => requireCalibrationSet({ ...ok, impostorPairs: 199_999 }, 1e-3, true));
  assert.match(pairs!.message, /199,999 different-person pairs, 200,000 needed/);
});

test('fitCalibrationSet fits the 1:1 point and the tail on every cross-identity pair, and records the data', () => {
  const set = labelledSet(400, 2);
  const fitted = fitCalibrationSet('m@1', set, { targetFmr: 1e-3, tail: true, dataset: '/photos', at: 'T' });
  assert.deepEqual(fitted.size, { identities: 400, photos: 800, genuinePairs: 400, impostorPairs: 319_200 });
  const impostor: number[] = [];
  const genuine: number[] = [];
  for (let i = 0; i < set.length; i++)
    for (let j = i + 1; j < set.length; j++)
      (set[i]!.identity === set[j]!.identity ? genuine : impostor).push(cosine(set[i]!.e, set[j]!.e));
  const { fittedOn, ...tail } = fitted.tail!;
  assert.deepEqual(tail, fitImpostorTail('m@1', impostor));
  assert.deepEqual(fittedOn, { dataset: '/photos', identities: 400, photos: 800, impostorPairs: 319_200, at: 'T' });
  assert.deepEqual(fitted.calibration, calibrate('m@1', genuine, impostor, 1e-3));
  assert.equal(fitCalibrationSet('m@1', set, { targetFmr: 1e-3, tail: false, dataset: '', at: '' }).tail, null);
  assert.ok(
    tooSmall(() =>
      fitCalibrationSet('m@1', labelledSet(399, 3), { ...{ targetFmr: 1e-3, tail: true }, dataset: '', at: '' }),
    ),
  );
});

test('calibrate by sorting gives what counting every pair at every threshold gives', () => {
  const r = rng(3);
  const genuine = Array.from({ length: 300 }, () => Math.round((0.5 + 0.2 * r()) * 100) / 100);
  const impostor = Array.from({ length: 3_000 }, () => Math.round(0.1 * r() * 100) / 100); // ties on purpose
  const c = calibrate('m', genuine, impostor, 1e-3);
  // Brute force: every candidate, every pair.
  let best = Infinity;
  let eer = ratesAt(genuine, impostor, -1);
  for (const t of [...new Set([...genuine, ...impostor])].sort((a, b) => a - b)) {
    const x = ratesAt(genuine, impostor, t);
    if (Math.abs(x.fmr - x.fnmr) < best) [best, eer] = [Math.abs(x.fmr - x.fnmr), x];
  }
  assert.deepEqual(c.eer, eer);
  assert.deepEqual(c.operatingPoint, ratesAt(genuine, impostor, c.operatingPoint.threshold));
  let u = 0;
  for (const g of genuine) for (const i of impostor) u += g > i ? 1 : g === i ? 0.5 : 0;
  assert.ok(Math.abs(c.auc - u / (genuine.length * impostor.length)) < 1e-12);
});

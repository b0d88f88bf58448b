// The alignment variants measured on lfw-dev (scripts/accuracy/variants.ts): the fits and warps must do
// what their names say, or the table in docs/accuracy.md measures something else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyAffine, similarityTransform, warpBilinear, type Affine } from '../../src/face/geometry.js';
import {
  eyesMouthScaleTransform,
  eyesMouthTransform,
  warpAntialiased,
  warpBicubic,
  warpBilinearFloat,
  weightedSimilarity,
} from '../../scripts/accuracy/variant-warps.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);
const TPL = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];
const m: Affine = [1.3 * Math.cos(0.2), -1.3 * Math.sin(0.2), 40, 1.3 * Math.sin(0.2), 1.3 * Math.cos(0.2), 25];
const photo = TPL.map((p) => applyAffine(m, p));
const noisy = photo.map((p, i) => ({ x: p.x + [1, -2, 3, 0.5, -1][i]!, y: p.y + [-1, 0.5, 2, -2, 1][i]! }));

test('every fit recovers an exact similarity of the template', () => {
  for (const fit of [
    (f: typeof TPL, t: typeof TPL) => weightedSimilarity(f, t, [2, 2, 0.5, 1, 1]),
    eyesMouthTransform,
    eyesMouthScaleTransform,
  ]) {
    const got = fit(photo, TPL);
    TPL.forEach((q, i) => {
      const p = applyAffine(got, photo[i]!);
      close(p.x, q.x, 1e-6);
      close(p.y, q.y, 1e-6);
    });
  }
});

test('weighted fit: equal weights are the least-squares fit, a heavy point is fitted closer', () => {
  const eq = weightedSimilarity(noisy, TPL, [1, 1, 1, 1, 1]);
  similarityTransform(noisy, TPL).forEach((v, i) => close(eq[i]!, v, 1e-9));
  const err = (a: Affine) =>
    Math.hypot(applyAffine(a, noisy[2]!).x - TPL[2]!.x, applyAffine(a, noisy[2]!).y - TPL[2]!.y);
  assert.ok(err(weightedSimilarity(noisy, TPL, [1, 1, 10, 1, 1])) < err(eq));
});

test('eyes-and-mouth fit puts the eyes on the template eye line whatever the nose says', () => {
  const a = eyesMouthTransform(noisy, TPL);
  const l = applyAffine(a, noisy[0]!),
    r = applyAffine(a, noisy[1]!);
  // Same direction and length as the template's eye line: rotation and scale come from the eyes alone.
  close(Math.atan2(r.y - l.y, r.x - l.x), Math.atan2(TPL[1]!.y - TPL[0]!.y, TPL[1]!.x - TPL[0]!.x), 1e-9);
  close(Math.hypot(r.x - l.x, r.y - l.y), Math.hypot(TPL[1]!.x - TPL[0]!.x, TPL[1]!.y - TPL[0]!.y), 1e-9);
  const moved = noisy.map((p, i) => (i === 2 ? { x: p.x + 9, y: p.y - 7 } : p));
  eyesMouthTransform(moved, TPL).forEach((v, i) => close(v, a[i]!, 1e-12));
});

const ramp = (w: number, h: number) => {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.fill(10 + 3 * x + 2 * y, (y * w + x) * 3, (y * w + x) * 3 + 3);
  return { width: w, height: h, data };
};

// Bicubic reproduces a linear ramp exactly; the antialiased warp's discrete triangle weights, normalised, to within 0.1 grey level.
test('bicubic and antialiased warps reproduce a linear ramp inside the photo and read black outside', () => {
  const src = ramp(40, 40);
  const shift: Affine = [1, 0, 5.25, 0, 1, 7.5];
  const shrink: Affine = [1.4, 0, 6.3, 0, 1.4, 4.1];
  for (const [warp, a] of [
    [warpBicubic, shift],
    [warpBicubic, shrink],
    [warpAntialiased, shift],
    [warpAntialiased, shrink],
  ] as const) {
    const out = warp(src, a, 16, 16);
    for (const [x, y] of [
      [3, 4],
      [10, 12],
    ] as const) {
      const s = applyAffine(a, { x, y });
      close(out[(y * 16 + x) * 3]!, 10 + 3 * s.x + 2 * s.y, warp === warpAntialiased && a === shrink ? 0.1 : 1e-3);
    }
  }
  assert.equal(warpBicubic(src, [1, 0, -20, 0, 1, 0], 4, 4)[0], 0);
});

test('the antialiased warp averages when shrinking where bilinear aliases, and is bilinear when enlarging', () => {
  // A one-pixel checkerboard shrunk 1.5x: bilinear samples land on single pixels, the antialiased warp averages.
  const w = 30,
    data = new Uint8Array(w * w * 3);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) data.fill((x + y) % 2 ? 200 : 0, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const src = { width: w, height: w, data };
  const a: Affine = [1.5, 0, 5, 0, 1.5, 5];
  const spread = (px: ArrayLike<number>) => {
    const v = Array.from({ length: 64 }, (_, i) => px[i * 3]!);
    return Math.max(...v) - Math.min(...v);
  };
  assert.ok(spread(warpBilinear(src, a, 8, 8)) > 150);
  assert.ok(spread(warpAntialiased(src, a, 8, 8)) < 60);
  const up: Affine = [0.7, 0.1, 3.3, -0.1, 0.7, 4.6];
  const ref = warpBilinearFloat(src, up, 12, 12);
  warpAntialiased(src, up, 12, 12).forEach((v, i) => close(v, ref[i]!, 1e-3));
});

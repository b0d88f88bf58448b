import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  applyAffine,
  composeAffine,
  downsampleRegion,
  invertAffine,
  similarityTransform,
  warpBilinear,
  warpCrop,
  type Affine,
} from '../../src/face/geometry.js';

const close = (a: number, b: number, eps = 1e-6) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

test('similarityTransform recovers a known rotation, scale and shift', () => {
  const angle = 0.3,
    s = 1.7;
  const m: Affine = [s * Math.cos(angle), -s * Math.sin(angle), 12, s * Math.sin(angle), s * Math.cos(angle), -5];
  const from = [
    { x: 1, y: 2 },
    { x: 10, y: 3 },
    { x: 4, y: 9 },
    { x: -3, y: 7 },
  ];
  const to = from.map((p) => applyAffine(m, p));
  const got = similarityTransform(from, to);
  for (let i = 0; i < 6; i++) close(got[i]!, m[i]!);
});

test('invert and compose are inverse operations', () => {
  const m: Affine = [1.2, -0.4, 3, 0.4, 1.2, -7];
  const id = composeAffine(m, invertAffine(m));
  [1, 0, 0, 0, 1, 0].forEach((v, i) => close(id[i]!, v));
});

test('warpBilinear with identity copies pixels and blacks out the outside', () => {
  const src = { width: 2, height: 2, data: new Uint8Array([10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120]) };
  const out = warpBilinear(src, [1, 0, 0, 0, 1, 0], 3, 2);
  assert.deepEqual([...out.subarray(0, 6)], [10, 20, 30, 40, 50, 60]);
  assert.deepEqual([...out.subarray(6, 9)], [0, 0, 0]);
});

test('downsampleRegion averages blocks and maps chip pixels back to their source centres', () => {
  const w = 4,
    h = 4;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data.fill(i * 10, i * 3, i * 3 + 3);
  const { chip, toSource } = downsampleRegion({ width: w, height: h, data }, { x: 0, y: 0, width: 4, height: 4 }, 2);
  assert.equal(chip.width, 2);
  assert.equal(chip.data[0], Math.round((0 + 10 + 40 + 50) / 4));
  const c = applyAffine(toSource, { x: 1, y: 1 });
  close(c.x, 2.5);
  close(c.y, 2.5);
});

test('warpCrop of a shrinking warp agrees with the plain warp on smooth images', () => {
  const w = 400,
    h = 400;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) data.fill(((x + y) % 256) >> 1, (y * w + x) * 3, (y * w + x) * 3 + 3);
  const m: Affine = [4, 0, 20, 0, 4, 20];
  const a = warpCrop({ width: w, height: h, data }, m, 50, 50);
  const b = warpBilinear({ width: w, height: h, data }, m, 50, 50);
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff += Math.abs(a[i]! - b[i]!);
  assert.ok(diff / a.length < 3, `mean abs diff ${diff / a.length}`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planSweep } from '../../src/privacy/orphan-sweep.js';
import type { Slot } from '../../src/privacy/keystore-format.js';

const OLD = 1_000;
const NOW = 5_000; // oldBefore: written before this is older than any transaction
const live = (slot: number, createdAt: number): Slot => ({
  slot,
  state: 'live',
  owner: `sub_${slot}`,
  createdAt,
  wrapped: Buffer.alloc(60),
});
const empty = (slot: number): Slot => ({ slot, state: 'empty', owner: '', createdAt: 0, wrapped: null });
const tomb = (slot: number): Slot => ({ slot, state: 'tombstone', owner: `sub_${slot}`, createdAt: 0, wrapped: null });

test('old unnamed live slots are orphans; named, young and tombstoned ones are not', () => {
  const tail = [live(11, OLD), live(12, OLD), tomb(13), live(14, OLD), live(15, NOW + 1)];
  const plan = planSweep(tail, new Set([11, 14]), NOW, 10);
  assert.deepEqual(
    plan.orphans.map((s) => s.slot),
    [12],
  );
});

test('the mark stops below the first young unnamed key, so a later sweep sees it again', () => {
  const tail = [live(11, OLD), live(12, NOW), live(13, OLD)];
  assert.equal(planSweep(tail, new Set([11, 13]), NOW, 10).sweptTo, 11);
  // Once named (its transaction committed), it is settled and the mark passes it.
  assert.equal(planSweep(tail, new Set([11, 12, 13]), NOW, 10).sweptTo, 13);
  // Once old and still unnamed, it is an orphan: settled as well.
  const later = planSweep(tail, new Set([11, 13]), NOW + 1, 10);
  assert.deepEqual(
    later.orphans.map((s) => s.slot),
    [12],
  );
  assert.equal(later.sweptTo, 13);
});

test('an empty slot is settled below an old written slot, and stops the mark after the last one', () => {
  // 12: allocated by a transaction that never wrote its key, before 13 was written long ago.
  assert.equal(planSweep([live(11, OLD), empty(12), live(13, OLD)], new Set([11, 13]), NOW, 10).sweptTo, 13);
  // 14: allocated after every old slot: its transaction may be about to write it.
  const tail = [live(11, OLD), live(12, NOW + 5), empty(14)];
  assert.equal(planSweep(tail, new Set([11, 12]), NOW, 10).sweptTo, 13);
});

test('the mark never moves back, and an empty tail leaves it where it was', () => {
  assert.equal(planSweep([], new Set(), NOW, 42).sweptTo, 42);
  assert.equal(planSweep([live(43, NOW + 1)], new Set(), NOW, 42).sweptTo, 42);
});

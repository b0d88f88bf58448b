import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChangeGate } from '../../src/gallery/change-gate.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('ChangeGate: quiet resolves at once with no change, and only once the changes in flight ended and none came for the idle time', async () => {
  const gate = new ChangeGate(60, 5_000);
  await gate.quiet();
  // At once: it never took the waiting path (that counts every wait, however short).
  assert.deepEqual(gate.waits, { count: 0, ms: 0 });

  const a = gate.enter();
  const b = gate.enter();
  let resolved = false;
  const q = gate.quiet().then(() => (resolved = true));
  a();
  a(); // a second call does nothing: b is still in flight
  await sleep(100);
  assert.equal(resolved, false, 'one change still in flight');
  b();
  const ended = performance.now();
  // The same loop turn: no timer can have run, however loaded the machine (a sleep here could outlast the idle time).
  await new Promise((r) => setImmediate(r));
  assert.equal(resolved, false, 'not yet idle for 60 ms');
  // A change in the idle time starts the count again.
  const c = gate.enter();
  await sleep(80);
  assert.equal(resolved, false);
  c();
  const last = performance.now();
  await q;
  assert.ok(
    performance.now() - last >= 55,
    `released ${(performance.now() - last).toFixed(0)} ms after the last change`,
  );
  assert.ok(performance.now() - ended >= 100);
  assert.equal(gate.waits.count, 1);
  assert.ok(gate.waits.ms >= 150);
});

// The test's own timeout is the hang guard: a step that waited for the change to end would never resolve.
test(
  'ChangeGate: a change that never ends holds a step at most the longest wait; during() ends the change when its work throws',
  { timeout: 30_000 },
  async () => {
    const gate = new ChangeGate(10, 150);
    const leave = gate.enter();
    const t0 = performance.now();
    await gate.quiet();
    const waited = performance.now() - t0;
    assert.ok(waited >= 140, `waited ${waited.toFixed(0)} ms`);
    assert.ok(gate.busy, 'went ahead while the change was still in flight');
    assert.equal(gate.waits.count, 1);
    leave();
    await assert.rejects(
      gate.during(async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.equal(gate.busy, false, 'nothing left in flight');
    await sleep(20);
    await gate.quiet();
    assert.equal(gate.waits.count, 1, 'quiet after the idle time: no wait');
  },
);

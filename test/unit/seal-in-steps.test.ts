import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, sealInSteps, SEAL_OVERHEAD } from '../../src/privacy/keys.js';

test('sealInSteps writes what open reads, whatever the step; another AAD or a flipped byte fails', async () => {
  const key = randomBytes(32);
  for (const [size, step] of [
    [0, 16],
    [1000, 7],
    [1 << 16, 1 << 12],
    [100_003, 1 << 22],
  ] as const) {
    const plain = randomBytes(size);
    const sealed = await sealInSteps(key, plain, 'aad', step);
    assert.equal(sealed.length, size + SEAL_OVERHEAD);
    assert.deepEqual(open(key, sealed, 'aad'), plain);
    assert.throws(() => open(key, sealed, 'other'));
    sealed[sealed.length >> 1]! ^= 1;
    assert.throws(() => open(key, sealed, 'aad'));
  }
});

test('sealInSteps gives the event loop back between steps', async () => {
  let turns = 0;
  const tick = setInterval(() => turns++, 0);
  try {
    await sealInSteps(randomBytes(32), Buffer.alloc(1 << 20), 'aad', 1 << 14);
  } finally {
    clearInterval(tick);
  }
  assert.ok(turns > 0, 'a timer ran while the plaintext was sealed');
});

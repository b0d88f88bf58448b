import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { previousKeyFor } from '../../src/ops/backup.service.js';
import { MasterKey } from '../../src/privacy/keys.js';
import type { Probe } from '../../src/privacy/derived-reseal.js';

const [current, old, other] = [0, 1, 2].map(() => MasterKey.fromBytes(randomBytes(32)));
/** A probe that finds the backup's few tried items under `under`'s keys (as the real one reads them). */
const probeUnder =
  (under: MasterKey) =>
  async (k: MasterKey): Promise<Probe> =>
    k.id === under.id ? 'opens' : 'fails';

test('an old key the operator names is used even when the probed items open under the current key (a mix inside one kind)', async () => {
  // No manifest id (an older backup, a PostgreSQL replay) and a manifest naming the current key.
  for (const id of [undefined, current!.id])
    assert.equal((await previousKeyFor(current!, id, old, probeUnder(current!)))?.id, old!.id);
});

test('without a named key, data under the current key needs nothing; the current key named as the old one is ignored', async () => {
  assert.equal(await previousKeyFor(current!, undefined, undefined, probeUnder(current!)), null);
  assert.equal(await previousKeyFor(current!, current!.id, current, probeUnder(current!)), null);
});

test('data under another key is refused without it, and with a key that is not the one', async () => {
  await assert.rejects(previousKeyFor(current!, undefined, undefined, probeUnder(old!)), {
    code: 'MASTER_KEY_INVALID',
    message: /--previous-master-key FILE/,
  });
  await assert.rejects(previousKeyFor(current!, old!.id, other, probeUnder(old!)), { message: /is not the one/ });
  await assert.rejects(previousKeyFor(current!, undefined, other, probeUnder(old!)), { message: /is not the one/ });
  assert.equal((await previousKeyFor(current!, old!.id, old, probeUnder(old!)))?.id, old!.id);
  assert.equal((await previousKeyFor(current!, undefined, old, probeUnder(old!)))?.id, old!.id);
});

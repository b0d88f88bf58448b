import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { MasterKey } from '../../src/privacy/keys.js';
import { encodeLive } from '../../src/privacy/keystore-format.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import type { KeyRing } from '../../src/privacy/keyring.js';
import type { Store } from '../../src/store/store.js';
import { keySlotRepository as slots } from '../../src/privacy/key-slot.repository.js';
import { ENGINE } from '../../support/database.js';
import { tempDir, testDatabaseUrl } from '../helpers.js';

// The start-up sweep's mark (orphans-swept-to) says every slot up to it is settled. On SQLite a
// rolled-back allocation rolls the AUTOINCREMENT counter back too, so a slot number past the last
// committed one is handed out again: a slot the sweep settled (an orphan it tombstoned) can receive a
// new key, and if that transaction rolls back too, a live key no row names sits below the mark.

const master = MasterKey.fromBytes(Buffer.alloc(32, 7));
const at = '2026-01-31T10:00:00.000Z';

async function install(dir: string, url: string | undefined) {
  const store = await openStore({ databaseUrl: url, sqlitePath: join(dir, 'veil.db') });
  const { keyring, report } = await openKeyRing({ store, master, dataDir: dir });
  return { store, keyring, report };
}

/** A transaction that writes a key and rolls back; its slot then rewritten as written two hours ago. */
async function rolledBack(store: Store, keyring: KeyRing, owner: string): Promise<number> {
  await assert.rejects(
    store.transaction(async (tx) => {
      await keyring.create(tx, owner, at);
      throw new Error('rolled back');
    }),
  );
  const slot = (await keyring.keystore.readAll()).find((s) => s.owner === owner && s.state === 'live')!.slot;
  const old = Math.floor(Date.now() / 1000) - 7200;
  await keyring.keystore.write([
    { slot, bytes: encodeLive(slot, owner, master.wrapSlot(randomBytes(32), owner, slot), old) },
  ]);
  return slot;
}

test(`${ENGINE}: a key written over a slot the sweep settled by a transaction that rolls back is still tombstoned at the next start`, async () => {
  const dir = tempDir('veil-orphan-reuse-');
  const url = await testDatabaseUrl();
  const first = await install(dir, url);
  try {
    await first.store.transaction((tx) => first.keyring.create(tx, 'sub_named00000000000', at));
    await rolledBack(first.store, first.keyring, 'sub_rollback10000000');
  } finally {
    await first.store.close();
  }
  const second = await install(dir, url);
  try {
    assert.equal(second.report.orphans, 1, 'the first rolled-back key is tombstoned');
    await rolledBack(second.store, second.keyring, 'sub_rollback20000000');
  } finally {
    await second.store.close();
  }
  const third = await install(dir, url);
  try {
    const named = new Set((await slots.all(third.store.db)).map((r) => r.slot));
    const live = (await third.keyring.keystore.readAll()).filter((s) => s.state === 'live');
    assert.deepEqual(
      live.filter((s) => !named.has(s.slot)).map((s) => s.owner),
      [],
      'a live key no row names outlived the sweep',
    );
    assert.equal(third.report.orphans, 1);
  } finally {
    await third.store.close();
  }
});

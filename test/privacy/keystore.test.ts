import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { KEYSTORE_FILE, MasterKey, NEXT_MASTER_FILE } from '../../src/privacy/keys.js';
import { encodeLive, encodeTombstone, parseSlot, slotAad, SLOT_BYTES } from '../../src/privacy/keystore-format.js';
import { Keystore } from '../../src/privacy/keystore.js';
import { openKeyRing } from '../../src/privacy/keystore-upkeep.js';
import { keySlotRepository as slots } from '../../src/privacy/key-slot.repository.js';
import { isVeilError } from '../../src/errors.js';
import { tempDir, testDatabaseUrl } from '../helpers.js';

const master = MasterKey.fromBytes(Buffer.alloc(32, 7));
const code = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e) => (isVeilError(e) ? e.code : String(e)),
  );

async function install(dir = tempDir('veil-keystore-'), databaseUrl?: string) {
  const url = databaseUrl ?? (await testDatabaseUrl());
  const store = await openStore({ databaseUrl: url, sqlitePath: join(dir, 'veil.db') });
  const { keyring, report } = await openKeyRing({ store, master, dataDir: dir });
  return { dir, url, store, keyring, report };
}

const at = '2026-01-31T10:00:00.000Z';

describe('slot format', () => {
  test('a live slot: magic, version, state, slot number, owner, then the wrapped key at 64; AAD binds owner and slot', () => {
    const key = Buffer.alloc(32, 0xab);
    const wrapped = master.wrapSlot(key, 'sub_0123456789abcdef', 5);
    const b = encodeLive(5, 'sub_0123456789abcdef', wrapped, 1_800_000_000);
    assert.equal(b.length, SLOT_BYTES);
    assert.equal(b.subarray(0, 8).toString('hex'), '56534c5401010000');
    assert.equal(b.readUInt32BE(8), 5);
    assert.equal(b.readUInt32BE(12), 1_800_000_000);
    assert.equal(b.subarray(16, 64).toString('ascii').replace(/\0+$/, ''), 'sub_0123456789abcdef');
    assert.ok(b.subarray(64, 124).equals(wrapped));
    assert.equal(slotAad('sub_0123456789abcdef', 5), 'veil.keystore.v1:sub_0123456789abcdef:5');
    const s = parseSlot(b, 5);
    assert.deepEqual([s.state, s.owner, s.slot], ['live', 'sub_0123456789abcdef', 5]);
    assert.ok(master.unwrapSlot(s.wrapped!, s.owner, 5).equals(key));
    // The same bytes read as another slot are nothing; the wrap does not open for another slot or owner.
    assert.equal(parseSlot(b, 6).state, 'empty');
    assert.throws(() => master.unwrapSlot(wrapped, 'sub_0123456789abcdef', 6), { code: 'KEY_DESTROYED' });
    assert.throws(() => master.unwrapSlot(wrapped, 'sub_0123456789abcdeX', 5), { code: 'KEY_DESTROYED' });
    // One flipped bit anywhere in the wrapped key: it does not open.
    for (const i of [0, 20, 59]) {
      const c = Buffer.from(wrapped);
      c[i]! ^= 1;
      assert.throws(() => master.unwrapSlot(c, 'sub_0123456789abcdef', 5));
    }
  });

  test('a tombstone keeps magic and owner and nothing else', () => {
    const t = encodeTombstone(9, 'sub_0123456789abcdef');
    assert.equal(t[5], 2);
    assert.ok(t.subarray(64).equals(Buffer.alloc(64)), 'no key material');
    assert.deepEqual(parseSlot(t, 9), {
      slot: 9,
      state: 'tombstone',
      owner: 'sub_0123456789abcdef',
      createdAt: 0,
      wrapped: null,
    });
    assert.equal(parseSlot(Buffer.alloc(SLOT_BYTES), 9).state, 'empty');
    assert.equal(parseSlot(t.subarray(0, 100), 9).state, 'empty', 'a slot cut short by the end of the file');
    assert.throws(() => encodeTombstone(1, 'has space'), { code: 'INVALID_INPUT' });
    assert.throws(() => encodeTombstone(1, 'x'.repeat(49)), { code: 'INVALID_INPUT' });
  });
});

describe('keyring on the keystore', () => {
  test('create, get, destroy: marked in the transaction, overwritten after it; a rolled-back destroy changes nothing', async () => {
    const { store, keyring, dir } = await install();
    try {
      const key = await store.transaction((tx) => keyring.create(tx, 'sub_aaaaaaaaaaaaaaaa', at));
      assert.ok((await keyring.get(store.db, 'sub_aaaaaaaaaaaaaaaa')).equals(key));
      assert.ok((await store.transaction((tx) => keyring.getOrCreate(tx, 'sub_aaaaaaaaaaaaaaaa', at))).equals(key));
      await assert.rejects(
        store.transaction(async (tx) => {
          assert.equal(await keyring.destroy(tx, 'sub_aaaaaaaaaaaaaaaa'), true);
          throw new Error('rolled back');
        }),
      );
      assert.ok((await keyring.get(store.db, 'sub_aaaaaaaaaaaaaaaa')).equals(key), 'still there');
      await store.transaction((tx) => keyring.destroy(tx, 'sub_aaaaaaaaaaaaaaaa'));
      assert.equal(await code(keyring.get(store.db, 'sub_aaaaaaaaaaaaaaaa')), 'KEY_DESTROYED', 'gone at commit');
      const slot = 1;
      assert.equal(
        parseSlot(readFileSync(join(dir, KEYSTORE_FILE)).subarray(SLOT_BYTES, 2 * SLOT_BYTES), slot).state,
        'live',
      );
      assert.equal(await keyring.shred(store), 1);
      const after = readFileSync(join(dir, KEYSTORE_FILE));
      assert.equal(parseSlot(after.subarray(SLOT_BYTES, 2 * SLOT_BYTES), slot).state, 'tombstone');
      assert.ok(!after.includes(key));
      assert.deepEqual(await slots.all(store.db), [], 'no row names the key any more');
      assert.equal(await code(store.transaction((tx) => keyring.getOrCreate(tx, 'sub_bbbbbbbbbbbbbbbb', at))), 'OK');
    } finally {
      await store.close();
    }
  });

  test('slot numbers are never handed out again, even after the highest is destroyed', async () => {
    const { store, keyring } = await install();
    try {
      for (const o of ['sub_a000000000000000', 'sub_b000000000000000'])
        await store.transaction((tx) => keyring.create(tx, o, at));
      await store.transaction((tx) => keyring.destroy(tx, 'sub_b000000000000000'));
      await keyring.shred(store);
      await store.transaction((tx) => keyring.create(tx, 'sub_c000000000000000', at));
      assert.deepEqual(
        (await slots.all(store.db)).map((r) => [r.owner, r.slot]),
        [
          ['sub_a000000000000000', 1],
          ['sub_c000000000000000', 3],
        ],
      );
      assert.equal((await keyring.keystore.read(2)).state, 'tombstone', 'the tombstone stays');
    } finally {
      await store.close();
    }
  });

  test('two processes on one database and data directory create keys at once without sharing a slot', async () => {
    const a = await install();
    const b = await install(a.dir, a.url);
    try {
      const owners = Array.from({ length: 40 }, (_, i) => `sub_p${String(i).padStart(15, '0')}`);
      const keys = await Promise.all(
        owners.map((o, i) => {
          const p = i % 2 ? b : a;
          return p.store.transaction((tx) => p.keyring.create(tx, o, at));
        }),
      );
      const all = await a.keyring.getMany(a.store.db, owners);
      const fromB = await b.keyring.getMany(b.store.db, owners);
      owners.forEach((o, i) => {
        assert.ok(all.get(o)!.equals(keys[i]!), o);
        assert.ok(fromB.get(o)!.equals(keys[i]!), o);
      });
      assert.equal(new Set((await slots.all(a.store.db)).map((r) => r.slot)).size, 40);
    } finally {
      await Promise.all([a.store.close(), b.store.close()]);
    }
  });

  test('start-up upkeep: a destroy a crash left unwritten is finished; an old orphan slot is tombstoned, a young one left', async () => {
    const { dir, url, store, keyring } = await install();
    try {
      await store.transaction((tx) => keyring.create(tx, 'sub_crash00000000000', at));
      await store.transaction((tx) => keyring.destroy(tx, 'sub_crash00000000000'));
      // A transaction that wrote its key and then rolled back, an hour and more ago, and one just now.
      await assert.rejects(
        store.transaction(async (tx) => {
          await keyring.create(tx, 'sub_young00000000000', at);
          throw new Error('rolled back');
        }),
      );
      const old = Math.floor(Date.now() / 1000) - 7200;
      const orphan = encodeLive(
        50,
        'sub_orphan0000000000',
        master.wrapSlot(randomBytes(32), 'sub_orphan0000000000', 50),
        old,
      );
      await keyring.keystore.write([{ slot: 50, bytes: orphan }]);
    } finally {
      await store.close();
    }
    const again = await install(dir, url);
    try {
      assert.deepEqual(again.report, { moved: 0, finished: 1, orphans: 1, spared: new Map() });
      const states = new Map((await again.keyring.keystore.readAll()).map((s) => [s.owner, s.state]));
      assert.equal(states.get('sub_crash00000000000'), 'tombstone');
      assert.equal(states.get('sub_orphan0000000000'), 'tombstone');
      assert.equal(states.get('sub_young00000000000'), 'live');
    } finally {
      await again.store.close();
    }
  });

  test('start-up upkeep reads the slots past its mark; a restored database, with its older mark, has them read again', async () => {
    const { dir, url, store } = await install();
    const old = Math.floor(Date.now() / 1000) - 7200;
    let slot: number;
    try {
      // A key written long ago and named: settled, so the next start moves its mark past it.
      const owner = 'sub_restored00000000';
      slot = await slots.allocate(store.db, owner, at);
      await new Keystore(dir, await Keystore.readHeader(dir)).write([
        { slot, bytes: encodeLive(slot, owner, master.wrapSlot(randomBytes(32), owner, slot), old) },
      ]);
    } finally {
      await store.close();
    }
    const second = await install(dir, url);
    try {
      assert.equal(second.report.orphans, 0);
      assert.equal(await slots.state(second.store.db, 'orphans-swept-to'), String(slot));
      // The database restored from before that key: no row names it, and its mark is older.
      await second.store.db.deleteFrom('key_slots').where('slot', '=', slot).execute();
      await slots.setState(second.store.db, 'orphans-swept-to', String(slot - 1));
    } finally {
      await second.store.close();
    }
    const third = await install(dir, url);
    try {
      assert.equal(third.report.orphans, 1);
      const s = await third.keyring.keystore.readFrom(slot);
      assert.equal(s[0]!.state, 'tombstone');
      assert.equal(s[0]!.owner, 'sub_restored00000000');
    } finally {
      await third.store.close();
    }
  });

  test('the keystore and its database must belong together, under the same master key', async () => {
    const a = await install();
    await a.store.transaction((tx) => a.keyring.create(tx, 'sub_k000000000000000', at));
    await a.store.close();
    // An empty database pointed at a data directory with keys: a wrong DATABASE_URL.
    const other = await openStore({ databaseUrl: await testDatabaseUrl(), sqlitePath: join(tempDir(), 'veil.db') });
    try {
      await assert.rejects(openKeyRing({ store: other, master, dataDir: a.dir }), /knows none of them/);
    } finally {
      await other.close();
    }
    // The right database, another installation's keystore.
    const b = await install();
    await b.store.close();
    const store = await openStore({ databaseUrl: a.url, sqlitePath: join(a.dir, 'veil.db') });
    try {
      await assert.rejects(openKeyRing({ store, master, dataDir: b.dir }), /belongs with keystore/);
      await assert.rejects(
        openKeyRing({ store, master: MasterKey.fromBytes(Buffer.alloc(32, 8)), dataDir: a.dir }),
        /wrapped under master key/,
      );
      renameSync(join(a.dir, 'keys'), join(a.dir, 'keys.gone'));
      await assert.rejects(openKeyRing({ store, master, dataDir: a.dir }), /does not exist/);
      renameSync(join(a.dir, 'keys.gone'), join(a.dir, 'keys'));
      assert.equal(await code(openKeyRing({ store, master, dataDir: a.dir })), 'OK');
    } finally {
      await store.close();
    }
  });

  test('many keys at start come from one read of the file', async (t) => {
    const { store, keyring } = await install();
    try {
      const n = 5000;
      const owners = Array.from({ length: n }, (_, i) => `sub_m${String(i).padStart(15, '0')}`);
      const want = new Map<string, Buffer>();
      await store.transaction(async (tx) => {
        const writes = [];
        for (const o of owners) {
          const key = randomBytes(32);
          const slot = await slots.allocate(tx, o, at);
          writes.push({
            slot,
            bytes: encodeLive(slot, o, master.wrapSlot(key, o, slot), Math.floor(Date.now() / 1000)),
          });
          want.set(o, key);
        }
        await keyring.keystore.write(writes);
      });
      const t0 = performance.now();
      const got = await keyring.getMany(store.db, owners);
      const ms = performance.now() - t0;
      t.diagnostic(`getMany of ${n} keys: ${ms.toFixed(0)} ms`);
      assert.equal(got.size, n);
      for (const o of owners.slice(0, 50)) assert.ok(got.get(o)!.equals(want.get(o)!));
      const few = await keyring.getMany(store.db, owners.slice(10, 13));
      assert.deepEqual([...few.keys()].sort(), owners.slice(10, 13));
    } finally {
      await store.close();
    }
  });
});

describe('master key rotation, interrupted', () => {
  const setUp = async (headerUnder: MasterKey) => {
    const dir = tempDir('veil-rollforward-');
    const old = MasterKey.fromBytes(Buffer.alloc(32, 1));
    const next = MasterKey.fromBytes(Buffer.alloc(32, 2));
    writeFileSync(join(dir, 'master.key'), old.toHex() + '\n', { mode: 0o600 });
    writeFileSync(join(dir, NEXT_MASTER_FILE), next.toHex() + '\n', { mode: 0o600 });
    await Keystore.create(dir, { keystoreId: '00'.repeat(16), masterId: headerUnder.id });
    return { dir, old, next };
  };

  test('after the keystore was rewritten: loading the master key finishes the rotation', async () => {
    const { dir, next } = await setUp(MasterKey.fromBytes(Buffer.alloc(32, 2)));
    const { master: loaded } = MasterKey.load(dir, undefined);
    assert.equal(loaded.id, next.id);
    assert.equal(existsSync(join(dir, NEXT_MASTER_FILE)), false);
    assert.equal(readFileSync(join(dir, 'master.key'), 'utf8').trim(), next.toHex());
  });

  test('before it: the old key stays in use and the new one is kept for the re-run', async () => {
    const { dir, old } = await setUp(MasterKey.fromBytes(Buffer.alloc(32, 1)));
    assert.equal(MasterKey.load(dir, undefined).master.id, old.id);
    assert.ok(existsSync(join(dir, NEXT_MASTER_FILE)));
  });

  test('a keystore with no master key anywhere refuses, rather than making a new key that opens nothing', async () => {
    const { dir } = await setUp(MasterKey.fromBytes(Buffer.alloc(32, 1)));
    renameSync(join(dir, 'master.key'), join(dir, 'elsewhere'));
    renameSync(join(dir, NEXT_MASTER_FILE), join(dir, 'elsewhere.next'));
    assert.throws(() => MasterKey.load(dir, undefined), { code: 'MASTER_KEY_INVALID' });
    assert.equal(existsSync(join(dir, 'master.key')), false);
  });
});

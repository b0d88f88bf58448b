import { test } from 'node:test';
import assert from 'node:assert/strict';
import { opsRepository } from '../../src/ops/ops.repository.js';

const tryLease = opsRepository.tryLease;
import { openTestStore, tempDir } from '../helpers.js';

test('a job lease goes to one process at a time, is renewed by its holder and passes on when it expires', async () => {
  const store = await openTestStore(tempDir());
  try {
    const t0 = new Date('2026-11-27T10:00:00Z');
    const at = (min: number) => new Date(t0.getTime() + min * 60_000);
    assert.equal(await tryLease(store.db, 'hourly', 'a', t0, 50 * 60_000), true);
    assert.equal(await tryLease(store.db, 'hourly', 'b', at(1), 50 * 60_000), false, 'held by a');
    assert.equal(await tryLease(store.db, 'other-job', 'b', at(1), 50 * 60_000), true, 'leases are per job');
    assert.equal(await tryLease(store.db, 'hourly', 'a', at(30), 50 * 60_000), true, 'the holder renews');
    assert.equal(await tryLease(store.db, 'hourly', 'b', at(60), 50 * 60_000), false, 'renewed until minute 80');
    assert.equal(await tryLease(store.db, 'hourly', 'b', at(81), 50 * 60_000), true, 'expired: b takes over');
    assert.equal(await tryLease(store.db, 'hourly', 'a', at(82), 50 * 60_000), false);
    // Both asking at the same instant: exactly one wins.
    const both = await Promise.all([
      tryLease(store.db, 'race', 'a', t0, 1000),
      tryLease(store.db, 'race', 'b', t0, 1000),
    ]);
    assert.equal(both.filter(Boolean).length, 1);
    // Who holds it, and giving it up: only the holder can, and the job is free at that same instant.
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(82)), 'b');
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(200)), null, 'expired');
    await opsRepository.releaseLease(store.db, 'hourly', 'a');
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(82)), 'b', 'not a: nothing given up');
    await opsRepository.releaseLease(store.db, 'hourly', 'b');
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(82)), null);
    assert.equal(await tryLease(store.db, 'hourly', 'a', at(82), 50 * 60_000), true);
    // Renewing (a job's fence): only while the lease still names the holder, even once expired; never a
    // lease taken by another since, nor one given up since (the lease free again is not the job's).
    const renew = (holder: string, min: number) =>
      opsRepository.renewLease(store.db, 'hourly', holder, at(min), 60_000);
    assert.equal(await renew('a', 200), true, 'expired, but nobody took it: a goes on');
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(200)), 'a');
    assert.equal(await renew('b', 200), false, 'held by a');
    assert.equal(await tryLease(store.db, 'hourly', 'b', at(202), 60_000), true);
    assert.equal(await renew('a', 203), false, 'b took it over');
    await opsRepository.releaseLease(store.db, 'hourly', 'b');
    assert.equal(await renew('a', 204), false, "given up by b: free, yet not a's again");
    assert.equal(await opsRepository.leaseHolder(store.db, 'hourly', at(204)), null);
  } finally {
    await store.close();
  }
});

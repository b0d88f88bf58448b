import { test } from 'node:test';
import assert from 'node:assert/strict';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId } from '../../src/ids.js';
import { indexSegmentRepository } from '../../src/vector/index-segment.repository.js';
import { ENGINE } from '../../support/database.js';
import { readable, seeded } from './snapshot.fixture.js';

// A subject read again into the index after a change (restriction lifted, template replaced, a failed
// change put back) must not put back rows another change took away while the read was in flight: the
// follower has passed that change's feed entry, so nothing would ever take them out again, and the
// background rewrite, written at the follower's position, would seal them under a live key.

const system = actors.system('test');

test(`${ENGINE}: an erasure that commits while a lifted restriction reads the person again leaves them in no index and no readable segment`, async () => {
  const s = await seeded('veil-snapshot-reload-race-');
  const v = await s.open();
  const who = v.index.ownerOf(v.index.templateIds()[77]!)!.subjectId as SubjectId;
  try {
    const template = v.index.templatesOf(who)[0]!;
    await v.lifecycle.setRestricted(who, true, system, 'checking');
    // The lifted restriction's read of the person returns what the store held before the erasure below,
    // and the erasure commits (and this process's follower applies it) before those rows reach the index.
    const vault = v.vault as unknown as { matchable: (...a: unknown[]) => Promise<unknown[]> };
    const read = vault.matchable.bind(vault);
    let raced = false;
    vault.matchable = async (...a: unknown[]) => {
      // Only the lifted restriction's own read: the follower reading them too (its poll, a notification)
      // would wait for its own pass in the catch-up below.
      const reloading = new Error().stack?.includes('reloadSubject') ?? false;
      const rows = await read(...a);
      const only = a[1] as { subjectId?: string } | undefined;
      if (!raced && reloading && only?.subjectId === who) {
        raced = true;
        await v.lifecycle.erase([who], system, null);
        await v.follower.catchUp();
      }
      return rows;
    };
    await v.lifecycle.setRestricted(who, false, system, 'checked');
    assert.ok(raced, 'the race ran');
    vault.matchable = read;
    await v.follower.catchUp();
    assert.deepEqual(v.index.templatesOf(who), [], 'the erased person is back in the live index');
    assert.equal(v.index.ownerOf(template), undefined);
    // The range the changes destroyed is written again from this index: nothing readable holds them.
    await v.rewrites!.flush();
    assert.ok(
      v.rewrites!.runs.some((r) => r.segments > 0),
      'the range was written again',
    );
    for (const x of await readable(v, s.dir, s.purposeId))
      assert.ok(!x.subjectIds.includes(who), `segment ${x.id} holds the erased person under a live key`);
    const rows = await indexSegmentRepository.all(v.store.db);
    assert.ok(rows.length > 0);
  } finally {
    await v.close();
  }
  // Nor does the next start hold them (the rewritten segment is trusted up to its feed position).
  const again = await s.open();
  try {
    assert.deepEqual(again.index.templatesOf(who), []);
  } finally {
    await again.close();
  }
});

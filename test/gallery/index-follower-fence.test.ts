import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubjectId } from '../../src/ids.js';
import { IndexFollower } from '../../src/vector/index-feed.js';
import { indexChangeRepository } from '../../src/vector/index-change.repository.js';
import type { TemplateVault } from '../../src/gallery/template-vault.js';
import { ENGINE } from '../../support/database.js';
import { face } from '../helpers.js';
import { consentAndEnroll, eventPurpose, operator, veil } from './fixture.js';

type V = Awaited<ReturnType<typeof veil>>;

/** A second follower on the veil's index, woken only by the test (one catch-up is one pass). */
function follower(v: V, vault: TemplateVault): IndexFollower {
  const store = Object.create(v.store) as typeof v.store;
  store.listenIndexChanges = async () => async () => undefined;
  return new IndexFollower({ store, vault, index: v.index, pollMs: 3_600_000 });
}

// The change follower reads a person's matchable rows and then applies them. If their consent is
// withdrawn in this process between the read and the apply, the read is older than the withdrawal:
// applied, it would make them matchable again until the follower's next pass.

test(`${ENGINE}: a follower's read taken before a withdrawal is not applied after it, and is read again`, async () => {
  const v = await veil();
  try {
    await eventPurpose(v);
    const from = await indexChangeRepository.lastSeq(v.store.db);
    const a = await consentAndEnroll(v, 'event-photos', [face('face_recognition/obama/test_obama.jpg')]);
    const who = a.subjectId as SubjectId;
    assert.equal(v.index.templatesOf(who).length, 1);

    let raced = false;
    const vault = Object.create(v.vault) as TemplateVault;
    vault.matchable = async (...args: Parameters<TemplateVault['matchable']>) => {
      const rows = await v.vault.matchable(...args);
      if (!raced && args[1]?.subjectId === who) {
        assert.equal(rows.length, 1, 'the read sees the template before the withdrawal');
        raced = true;
        await v.consents.withdraw(operator, a.consent.id);
        assert.deepEqual(v.index.templatesOf(who), [], 'the withdrawal takes them out at once');
      }
      return rows;
    };
    // Behind the enrollment's feed entry: its first catch-up reads the person.
    const f = follower(v, vault);
    await f.start(from);
    try {
      await f.catchUp();
      assert.ok(raced, 'the race ran');
      assert.deepEqual(v.index.templatesOf(who), [], 'the stale read put the withdrawn person back');
      // Its index is not current past the enrollment's entry yet (a segment rewrite trusts this position).
      assert.equal(f.position, from);
      const applied = f.applied;
      await f.catchUp();
      assert.ok(f.applied > applied, 'the overtaken read is read again on the next pass');
      assert.deepEqual(v.index.templatesOf(who), []);
      assert.equal(f.position, await indexChangeRepository.lastSeq(v.store.db));
    } finally {
      await f.stop();
    }
  } finally {
    await v.close();
  }
});

// A follower far enough behind that the feed was pruned rebuilds from one read of every matchable row.
// A person whose withdrawal is in flight in this process (dropped from the index, transaction not yet
// committed) is still in that read: the rebuild must not put them back, or they stay matchable after
// the withdrawal has returned, until the follower's next pass.
test(`${ENGINE}: a pruned follower's full rebuild does not put back a person whose withdrawal is in flight`, async () => {
  const v = await veil();
  try {
    await eventPurpose(v);
    await consentAndEnroll(v, 'event-photos', [face('face_recognition/biden/test_biden.jpg')]);
    const from = await indexChangeRepository.lastSeq(v.store.db);
    const a = await consentAndEnroll(v, 'event-photos', [face('face_recognition/obama/test_obama.jpg')]);
    const who = a.subjectId as SubjectId;
    const seqA = await indexChangeRepository.lastSeq(v.store.db);
    await consentAndEnroll(v, 'event-photos', [
      face('face_recognition/kit_harington/knn_train_kit_harington_john1.jpeg'),
    ]);
    await indexChangeRepository.pruneUpTo(v.store.db, seqA);
    assert.ok((await indexChangeRepository.firstSeq(v.store.db)) > from + 1, 'the feed after the cursor is pruned');

    // The withdrawal's transaction waits (once it holds the person) until the test lets it go.
    const held = () => !v.index.fence.current(who, Number.MAX_SAFE_INTEGER);
    let open!: () => void;
    const gate = new Promise<void>((r) => (open = r));
    const transaction = v.store.transaction.bind(v.store);
    v.store.transaction = ((fn: Parameters<typeof transaction>[0]) =>
      held() ? gate.then(() => transaction(fn)) : transaction(fn)) as typeof v.store.transaction;

    let withdrawal: Promise<unknown> | undefined;
    const vault = Object.create(v.vault) as TemplateVault;
    vault.matchable = async (...args: Parameters<TemplateVault['matchable']>) => {
      const rows = await v.vault.matchable(...args);
      if (!withdrawal && !args[1]?.subjectId) {
        assert.ok(
          rows.some((r) => r.subjectId === who),
          'the full read sees them before the withdrawal',
        );
        withdrawal = v.consents.withdraw(operator, a.consent.id);
        while (!held()) await new Promise((r) => setImmediate(r));
        assert.deepEqual(v.index.templatesOf(who), [], 'the withdrawal takes them out at once');
      }
      return rows;
    };
    const f = follower(v, vault);
    await f.start(from);
    try {
      await f.catchUp();
      assert.ok(withdrawal, 'the full rebuild ran');
      assert.deepEqual(v.index.templatesOf(who), [], 'the rebuild put a person being withdrawn back');
      open();
      await withdrawal;
      assert.deepEqual(v.index.templatesOf(who), [], 'withdrawn, and still in the index');
      assert.ok(f.position < (await indexChangeRepository.lastSeq(v.store.db)), 'not current until read again');
      await f.catchUp();
      assert.deepEqual(v.index.templatesOf(who), []);
      assert.equal(f.position, await indexChangeRepository.lastSeq(v.store.db));
    } finally {
      open();
      await f.stop();
    }
  } finally {
    await v.close();
  }
});

// A person whose read was overtaken by a local change waits in the follower's retry map, past the
// cursor. A pass that fails (a store error) must not drop them: the follower would never read them
// again, and its position would claim their change applied (a segment rewrite trusts it).
test(`${ENGINE}: a failed pass keeps the people waiting to be read again, and the position before them`, async () => {
  const v = await veil();
  try {
    await eventPurpose(v);
    const from = await indexChangeRepository.lastSeq(v.store.db);
    const a = await consentAndEnroll(v, 'event-photos', [face('face_recognition/obama/test_obama.jpg')]);
    const who = a.subjectId as SubjectId;

    let raced = false;
    let fail = false;
    const vault = Object.create(v.vault) as TemplateVault;
    vault.matchable = async (...args: Parameters<TemplateVault['matchable']>) => {
      if (fail) {
        fail = false;
        throw new Error('store unavailable');
      }
      const rows = await v.vault.matchable(...args);
      if (!raced && args[1]?.subjectId === who) {
        raced = true;
        await v.consents.withdraw(operator, a.consent.id);
      }
      return rows;
    };
    const f = follower(v, vault);
    await f.start(from);
    try {
      await f.catchUp();
      assert.ok(raced, 'the race ran');
      assert.equal(f.position, from, 'the overtaken read is not current');
      fail = true;
      await f.catchUp();
      assert.equal(fail, false, 'the failing read ran');
      assert.equal(f.position, from, 'a failed pass claimed the overtaken person applied');
      const applied = f.applied;
      await f.catchUp();
      assert.ok(f.applied > applied, 'the person is read again after the failed pass');
      assert.equal(f.position, await indexChangeRepository.lastSeq(v.store.db));
    } finally {
      await f.stop();
    }
  } finally {
    await v.close();
  }
});

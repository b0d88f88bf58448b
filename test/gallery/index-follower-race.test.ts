import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubjectId } from '../../src/ids.js';
import { IndexFollower } from '../../src/vector/index-feed.js';
import { indexChangeRepository } from '../../src/vector/index-change.repository.js';
import type { TemplateVault } from '../../src/gallery/template-vault.js';
import { ENGINE } from '../../support/database.js';
import { face } from '../helpers.js';
import { consentAndEnroll, eventPurpose, operator, veil } from './fixture.js';

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
    // A second follower on the same index, behind the enrollment's feed entry, woken only by this test
    // (no timer, no notifications), so each catch-up below is one pass and no more.
    const store = Object.create(v.store) as typeof v.store;
    store.listenIndexChanges = async () => async () => undefined;
    const follower = new IndexFollower({ store, vault, index: v.index, pollMs: 3_600_000 });
    await follower.start(from);
    try {
      await follower.catchUp();
      assert.ok(raced, 'the race ran');
      assert.deepEqual(v.index.templatesOf(who), [], 'the stale read put the withdrawn person back');
      // Its index is not current past the enrollment's entry yet (a segment rewrite trusts this position).
      assert.equal(follower.position, from);
      const applied = follower.applied;
      await follower.catchUp();
      assert.ok(follower.applied > applied, 'the overtaken read is read again on the next pass');
      assert.deepEqual(v.index.templatesOf(who), []);
      assert.equal(follower.position, await indexChangeRepository.lastSeq(v.store.db));
    } finally {
      await follower.stop();
    }
  } finally {
    await v.close();
  }
});

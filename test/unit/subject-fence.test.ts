import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { PurposeId, SubjectId, TemplateId } from '../../src/ids.js';
import { SubjectFence } from '../../src/vector/subject-fence.js';
import { GalleryIndex } from '../../src/vector/gallery-index.js';

const A = 'sub_a' as SubjectId;
const B = 'sub_b' as SubjectId;

test('a read begun while a change to the person is in flight, or before one, is not current; one begun after is', async () => {
  const fence = new SubjectFence();
  const release = fence.hold([A]);
  await fence.reading(async () => {
    const during = fence.mark();
    assert.equal(fence.current(A, during), false, 'held: the change has not committed');
    assert.equal(fence.current(B, during), true, 'another person is not held');
    release();
    assert.equal(fence.current(A, during), false, 'read before the release: older than the change');
    release(); // twice is once
    const after = fence.mark();
    assert.equal(fence.current(A, after), true);
    const release2 = fence.hold([A, B]);
    const release3 = fence.hold([A]);
    release2();
    assert.equal(fence.current(A, fence.mark()), false, 'still held by the second change');
    assert.equal(fence.current(B, fence.mark()), true);
    release3();
    assert.deepEqual(fence.changedSince(after).sort(), [A, B]);
  });
  // Touches are only remembered while a read is in flight: nothing is left once it ends.
  assert.deepEqual(fence.changedSince(0), []);
});

test('the index refuses a follower apply overtaken by a local change, and accepts it otherwise', async () => {
  const index = new GalleryIndex(2);
  const row = (t: string, s: SubjectId) => ({
    templateId: t as TemplateId,
    subjectId: s,
    purposeId: 'pur_x' as PurposeId,
    vector: new Float32Array([1, 0]),
  });
  index.add(row('tpl_1', A));
  await index.fence.reading(async () => {
    const mark = index.fence.mark();
    index.removeSubject(A); // a local withdrawal after the follower's read began
    assert.equal(index.replaceSubject(A, [row('tpl_1', A)], mark), false);
    assert.deepEqual(index.templatesOf(A), []);
    const later = index.fence.mark();
    assert.equal(index.replaceSubject(A, [], later), true);
    assert.equal(index.replaceSubject(B, [row('tpl_2', B)], later), true);
    assert.deepEqual(index.templatesOf(B), ['tpl_2']);
    index.add(row('tpl_3', A)); // a local enrollment after the read of A began
    assert.equal(index.replaceSubject(A, [], later), false);
    assert.deepEqual(index.templatesOf(A), ['tpl_3'], 'the older read does not remove the new template');
  });
});

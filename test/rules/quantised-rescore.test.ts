import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { dot } from '../../src/vector/exact-rescore.js';
import { admin, consentPurpose, person, ruleVeil } from './fixture.js';

// The quantised tier keeps int8 copies only: its candidates are re-scored on the exact templates
// read and decrypted from the store, and an erased person's template can be read no more.

test('the quantised tier re-scores on the stored float templates, and an erased subject can no longer be read', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const amy = await person(v, 'events', 'amy');
  const bob = await person(v, 'events', 'bob');
  const stored = await v.vault.matchable(v.store.db);
  const byId = new Map(stored.map((t) => [t.templateId as string, t.vector]));
  const read = await v.vault.vectors(v.store.db, [amy.templateId, bob.templateId, 'tpl_nosuchtemplate00']);
  assert.deepEqual([...read.keys()].sort(), [amy.templateId, bob.templateId].sort());
  assert.deepEqual(read.get(amy.templateId), byId.get(amy.templateId));

  // A gallery index whose every purpose is quantised, fed from this store.
  const asked: string[][] = [];
  const g = new GalleryIndex(512, {
    makeIndex: () => QuantizedIndex.centredOn(stored.map((t) => t.vector)),
    exact: (ids) => {
      asked.push([...ids]);
      return v.vault.vectors(v.store.db, ids);
    },
  });
  for (const t of stored) g.add(t);
  const probe = byId.get(amy.templateId)!;
  const [hit] = await g.search(stored[0]!.purposeId, probe, 1, 0.5);
  assert.equal(hit!.subjectId, amy.subjectId);
  assert.equal(hit!.similarity, dot(probe, probe), 'the exact float cosine, from the stored template');
  assert.ok(asked.flat().includes(amy.templateId));

  // Erased (key destroyed, rows deleted): the store gives nothing to re-score, so nothing matches,
  // even in an index that still held the int8 copy.
  await v.lifecycle.erase([amy.subjectId], admin, null);
  assert.equal((await v.vault.vectors(v.store.db, [amy.templateId])).size, 0);
  const after = await g.search(stored[0]!.purposeId, probe, 1, -1);
  assert.notEqual(after[0]?.subjectId, amy.subjectId);
  // A key marked destroyed (in the erasure's transaction, before the slot is overwritten) is not
  // used either, though bob's row is still there.
  await v.store.transaction((tx) => v.keyring.destroy(tx, bob.subjectId));
  assert.equal((await v.vault.vectors(v.store.db, [bob.templateId])).size, 0);
  await v.close();
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SubjectId } from '../../src/ids.js';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { matchableRepository } from '../../src/vector/matchable.repository.js';
import { admin, consentPurpose, person, ruleVeil } from './fixture.js';

test('the paged rebuild read returns exactly the matchable templates: not the withdrawn, the erased or another page twice', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  await consentPurpose(v, 'venue');
  const people = [];
  for (let i = 0; i < 7; i++) people.push(await person(v, i % 2 ? 'venue' : 'events', `p${i}`));
  await v.consents.withdraw(admin, people[1]!.consent.id);
  await v.lifecycle.erase([people[2]!.subjectId], admin, null);

  const legacy = (await subjectRepository.templates(v.store.db, { matchableOnly: true })).map((t) => t.id).sort();
  assert.equal(legacy.length, 5);
  const pages: string[][] = [];
  for await (const page of v.vault.matchablePages(v.store.db, 2)) pages.push(page.map((t) => t.templateId));
  assert.deepEqual(pages.flat().sort(), legacy);
  assert.deepEqual(
    pages.map((p) => p.length),
    [2, 2, 1],
  );
  // The ids-only read (start-up from a snapshot) keeps the same rules, page by page.
  const ids: string[] = [];
  for (let after = ''; ;) {
    const page = await matchableRepository.idPage(v.store.db, after, 2, v.vault.model);
    ids.push(...page.map((r) => r.id));
    if (page.length < 2) break;
    after = page[page.length - 1]!.id;
  }
  assert.deepEqual(ids.sort(), legacy);
  // and so does the one that joins in code.
  const all = await matchableRepository.allIds(v.store.db, v.vault.model);
  assert.deepEqual(all.map((r) => r.id).sort(), legacy);
  // The vectors are the enrolled ones, and the whole read is what start-up indexes.
  const decrypted = await v.vault.matchable(v.store.db);
  assert.deepEqual(decrypted.map((t) => t.templateId).sort(), legacy);
  for (const t of decrypted) assert.deepEqual(v.index.snapshot()[t.purposeId]?.includes(t.templateId), true);
  await v.close();
});

test('keys come from one read of the keystore; a key created after that read is still found, a destroyed one is not', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const a = await person(v, 'events', 'a');
  const read = await v.keyring.bulkReader();
  const b = await person(v, 'events', 'b');
  const slot = async (s: SubjectId) => (await keySlotRepository.slotOf(v.store.db, s))!;
  const slotA = await slot(a.subjectId);
  assert.deepEqual(await read(a.subjectId, slotA), await v.keyring.get(v.store.db, a.subjectId));
  assert.deepEqual(await read(b.subjectId, await slot(b.subjectId)), await v.keyring.get(v.store.db, b.subjectId));
  assert.equal(await read(b.subjectId, slotA), null, 'a slot is only its owner’s');
  await v.lifecycle.erase([a.subjectId], admin, null);
  assert.equal(await (await v.keyring.bulkReader())(a.subjectId, slotA), null);
  await v.close();
});

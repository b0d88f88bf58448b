import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keySlotRepository } from '../../src/privacy/key-slot.repository.js';
import { encodeTombstone } from '../../src/privacy/keystore-format.js';
import type { TemplateVector } from '../../src/vector/gallery-index.js';
import { admin, consentPurpose, person, ruleVeil } from './fixture.js';

// The start-up rebuild decrypts on worker threads once the gallery is large: the same templates and
// vectors as the single-threaded read, and nothing of a person whose key is gone.

async function all(pages: AsyncGenerator<TemplateVector[]>): Promise<Map<string, TemplateVector>> {
  const out = new Map<string, TemplateVector>();
  for await (const page of pages) for (const t of page) out.set(t.templateId, t);
  return out;
}

test('decrypting on workers gives the single-threaded read, and never a shredded or erased person', async () => {
  const { v } = await ruleVeil();
  await consentPurpose(v, 'events');
  const people = [];
  for (const who of ['amy', 'bob', 'cat', 'dan', 'eve']) people.push(await person(v, 'events', who));
  const [amy, bob, , , eve] = people;
  await v.lifecycle.erase([amy!.subjectId], admin, null);
  // Bob's slot shredded in the keystore while the database still names it live (a crash between the
  // two, or a tampered database): the workers must not open his template.
  const slot = (await keySlotRepository.slotOf(v.store.db, bob!.subjectId))!;
  await v.keyring.keystore.write([{ slot, bytes: encodeTombstone(slot, bob!.subjectId) }]);

  // Pages of 2 rows, workers from the first row on; against one thread.
  const threaded = await all(v.vault.matchablePages(v.store.db, 2, 1));
  const inline = await all(v.vault.matchablePages(v.store.db, 2, Infinity));
  assert.deepEqual([...threaded.keys()].sort(), [...inline.keys()].sort());
  assert.equal(threaded.size, 3);
  for (const [id, t] of inline) {
    assert.deepEqual(threaded.get(id)!.vector, t.vector);
    assert.equal(threaded.get(id)!.subjectId, t.subjectId);
  }
  assert.ok(!threaded.has(amy!.templateId) && !threaded.has(bob!.templateId));
  assert.ok(threaded.has(eve!.templateId));

  // The rebuild through them finds the same.
  assert.equal(await v.lifecycle.rebuild(), 3);
  assert.deepEqual(v.index.templatesOf(bob!.subjectId), []);
  await v.close();
});

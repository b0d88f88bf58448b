import { test } from 'node:test';
import assert from 'node:assert/strict';
import { admin, code, consentPurpose, fakePhoto, keyActor, person, ruleVeil } from './fixture.js';

test("media list: a page at a time, oldest first, with faces and sightings; a key sees only its purposes' photos", async () => {
  const { v, clock } = await ruleVeil();
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  await person(v, 'alpha', 'ann');
  const ids: string[] = [];
  for (let i = 0; i < 5; i++) {
    clock.advance(1000);
    const o = await v.media.ingest(admin, 'alpha', { name: `a${i}.jpg`, bytes: fakePhoto(i === 0 ? 'ann' : `x${i}`) });
    assert.equal(o.status, 'ingested');
    if (o.status === 'ingested') ids.push(o.mediaId);
  }
  const b = await v.media.ingest(admin, 'beta', { name: 'b.jpg', bytes: fakePhoto('y') });

  const seen: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await v.media.list(admin, { purpose: 'alpha', limit: 2, cursor });
    assert.ok(page.items.length <= 2);
    seen.push(...page.items.map((m) => m.id));
    for (const m of page.items) {
      assert.equal(m.purpose, 'alpha');
      assert.deepEqual(Object.keys(m).sort(), [
        'faces',
        'filename',
        'height',
        'id',
        'ingestedAt',
        'purpose',
        'sightings',
        'width',
      ]);
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.deepEqual(seen, ids, 'every photo once, in ingestion order');
  // Photos ingested in the same millisecond still page without a gap or a repeat (ties broken by id).
  for (let i = 0; i < 3; i++) await v.media.ingest(admin, 'alpha', { name: `t${i}.jpg`, bytes: fakePhoto(`t${i}`) });
  const all: string[] = [];
  cursor = undefined;
  do {
    const page = await v.media.list(admin, { purpose: 'alpha', limit: 2, cursor });
    all.push(...page.items.map((m) => m.id));
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  assert.equal(new Set(all).size, 8);
  assert.equal(all.length, 8);
  const first = (await v.media.list(admin, { purpose: 'alpha', limit: 1 })).items[0]!;
  assert.equal(first.filename, 'a0.jpg');
  assert.ok(first.faces >= 1 && first.sightings === 1, JSON.stringify(first));

  // Without a purpose: every purpose the caller may see. A key bound to beta sees beta's photo only.
  assert.equal((await v.media.list(admin, {})).items.length, 9);
  const betaKey = keyActor('operator', ['beta'], 'key_beta');
  const mine = await v.media.list(betaKey, {});
  assert.deepEqual(
    mine.items.map((m) => m.id),
    [b.status === 'ingested' ? b.mediaId : ''],
  );
  assert.equal(await code(v.media.list(betaKey, { purpose: 'alpha' })), 'FORBIDDEN');
  assert.equal(await code(v.media.list(keyActor('auditor', '*'), {})), 'FORBIDDEN');
  assert.equal(await code(v.media.list(admin, { cursor: 'not-a-cursor' })), 'INVALID_INPUT');
  assert.equal(await code(v.media.list(admin, { limit: 0 })), 'INVALID_INPUT');
  await v.close();
});

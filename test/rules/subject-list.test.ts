import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildAccessPackage } from '../../src/rights/access-export.js';
import type { SubjectId } from '../../src/ids.js';
import type { AuditEntry } from '../../src/audit/entry.js';
import { admin, code, consentPurpose, keyActor, person, ruleVeil } from './fixture.js';

// The console's subject list and subject page (SubjectService.list/get/photo): each key sees only its
// purposes' subjects, every view is a disclosure in the audit log and in the person's access export.

test('the list shows a key only the subjects of its purposes, and of a shared subject only its own purposes', async (t) => {
  const { v } = await ruleVeil();
  t.after(() => v.close()); // also when an assertion fails: an open pool would keep the run alive
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const a = await person(v, 'alpha', 'ann');
  const b = await person(v, 'beta', 'bob');
  await person(v, 'beta', 'ann', { subjectId: a.subjectId });
  const keyA = keyActor('operator', ['alpha']);
  const seen = await v.subjects.list(keyA, { limit: 25 });
  assert.deepEqual(
    seen.items.map((s) => s.id),
    [a.subjectId],
  );
  assert.equal(seen.total, 1);
  assert.deepEqual(seen.items[0]!.purposes, ['alpha']);
  assert.deepEqual(
    seen.items[0]!.consents.map((c) => c.purpose),
    ['alpha'],
  );
  assert.equal(seen.items[0]!.templates, 1);
  assert.ok(seen.items[0]!.lastInteractionAt);
  const all = await v.subjects.list(admin, { limit: 25 });
  assert.deepEqual(new Set(all.items.map((s) => s.id)), new Set([a.subjectId, b.subjectId]));
  assert.deepEqual(all.items.find((s) => s.id === a.subjectId)!.purposes, ['alpha', 'beta']);
  // Asking for a purpose the key is not bound to is refused, an unknown one alike (existence is not disclosed).
  assert.equal(await code(v.subjects.list(keyA, { purpose: 'beta', limit: 25 })), 'FORBIDDEN');
  assert.equal(await code(v.subjects.list(keyA, { purpose: 'nope', limit: 25 })), 'FORBIDDEN');
  assert.equal(await code(v.subjects.list(admin, { purpose: 'nope', limit: 25 })), 'UNKNOWN_PURPOSE');
  // Roles without subjects.read are refused.
  assert.notEqual(await code(v.subjects.list(keyActor('investigator', ['alpha']), { limit: 25 })), 'OK');
});

test('search by id prefix, consent id, source reference, contact email, purpose and state; pages by cursor', async (t) => {
  const { v } = await ruleVeil();
  t.after(() => v.close()); // also when an assertion fails: an open pool would keep the run alive
  await consentPurpose(v, 'alpha');
  await consentPurpose(v, 'beta');
  const people = [];
  for (const who of ['p1', 'p2', 'p3', 'p4', 'p5'])
    people.push(await person(v, 'alpha', who, { email: `${who}@example.org` }));
  const onlyBeta = await person(v, 'beta', 'q1');
  const list = (q: Parameters<typeof v.subjects.list>[1]) => v.subjects.list(admin, q);
  const ids = async (q: Parameters<typeof v.subjects.list>[1]) => (await list(q)).items.map((s) => s.id);

  assert.deepEqual(await ids({ q: people[2]!.subjectId.slice(0, 12), limit: 25 }), [people[2]!.subjectId]);
  assert.deepEqual(await ids({ q: people[3]!.consent.id, limit: 25 }), [people[3]!.subjectId]);
  assert.deepEqual(await ids({ q: 'p4@example.org', limit: 25 }), [people[3]!.subjectId]);
  assert.deepEqual(
    await ids({ q: 'P4@Example.org ', limit: 25 }),
    [people[3]!.subjectId],
    'addresses match as typed by people',
  );
  assert.deepEqual(await ids({ q: 'nobody@example.org', limit: 25 }), []);
  assert.deepEqual(await ids({ q: '%', limit: 25 }), [], 'a LIKE wildcard is not a search for everything');
  assert.deepEqual(await ids({ purpose: 'beta', limit: 25 }), [onlyBeta.subjectId]);

  await v.subjects.setRestricted(admin, people[0]!.subjectId, true, 'dispute');
  assert.deepEqual(await ids({ state: 'restricted', limit: 25 }), [people[0]!.subjectId]);
  assert.equal((await list({ state: 'active', limit: 25 })).total, 5);

  // Pages of two, newest first, with no subject twice or missing.
  const seen: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await list({ purpose: 'alpha', limit: 2, cursor });
    assert.equal(page.total, 5);
    seen.push(...page.items.map((s) => s.id));
    cursor = page.nextCursor ?? undefined;
    pages++;
  } while (cursor);
  assert.equal(pages, 3);
  assert.deepEqual(new Set(seen), new Set(people.map((p) => p.subjectId)));
  assert.equal(seen.length, 5);
  assert.equal(await code(list({ cursor: 'not-a-cursor', limit: 2 })), 'INVALID_INPUT');

  // An erased subject keeps nothing to list.
  await v.lifecycle.erase([people[1]!.subjectId as SubjectId], admin, 'test');
  assert.equal((await ids({ limit: 25 })).includes(people[1]!.subjectId), false);
});

test('every list page, record and photo viewed is audited as a disclosure and listed in the access export', async (t) => {
  const { v, clock } = await ruleVeil();
  t.after(() => v.close());
  await consentPurpose(v, 'alpha');
  const a = await person(v, 'alpha', 'ann');
  const op = keyActor('operator', ['alpha']);
  const viewsOf = async () =>
    ((await v.audit.entries(admin, { subject: a.subjectId, limit: 100 })).items as AuditEntry[])
      .filter((e) => e.action === 'subject.viewed')
      .sort((x, y) => x.seq - y.seq);
  await v.subjects.list(op, { limit: 25 });
  await v.subjects.list(op, { q: 'nobody-matches-this', limit: 25 }); // shows no one: nothing disclosed
  await v.subjects.get(op, a.subjectId);
  // This purpose keeps no photos: there is none to show, and the refusal discloses nothing.
  assert.equal(await code(v.subjects.photo(op, a.subjectId, {})), 'NOT_FOUND');
  // A key bound elsewhere cannot see the record, nor probe for a photo.
  assert.equal(await code(v.subjects.photo(keyActor('dpo', ['beta']), a.subjectId, {})), 'UNKNOWN_SUBJECT');
  const views = await viewsOf();
  assert.deepEqual(
    views.map((e) => (e.detail as { view: string }).view),
    ['list', 'record'],
  );
  assert.ok(views.every((e) => e.subjectIds.includes(a.subjectId)));
  clock.advance(1000);
  const pkg = await buildAccessPackage(
    {
      store: v.store,
      keyring: v.keyring,
      vault: v.vault,
      ingest: v.media,
      signingKey: v.signingKey,
      controller: 'Acme',
      matching: v.calibration,
    },
    [a.subjectId as SubjectId],
    { language: 'en', requestId: 'req_test', withEmbeddings: false, now: clock.now().toISOString() },
  );
  const s = (pkg.manifest['subjects'] as { views: { what: string; viewer: string; viewerName: string }[] }[])[0]!;
  assert.deepEqual(
    s.views.map((w) => w.what),
    ['list', 'record'],
  );
  assert.ok(s.views.every((w) => w.viewer.startsWith('api-key:')));
});

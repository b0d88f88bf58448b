import { test } from 'node:test';
import assert from 'node:assert/strict';
import { searchRepository } from '../../src/gallery/search.repository.js';
import { auditRepository } from '../../src/audit/audit.repository.js';
import { admin, code, legalPurpose, why } from './fixture.js';
import { fakeFaces, sizedVeil } from './faces.fixture.js';
import type { Veil } from '../../src/app/veil.js';

// Every face of a probe is searched: one decision per face, the largest face's at the top level for
// single-face clients, and one search record that says which face returned whom.

async function enroll(v: Veil, who: string): Promise<string> {
  const images = [fakeFaces([who, '1'])];
  return (await v.gallery.enroll(admin, { purpose: 'events', sourceReference: `file ${who}`, images })).subjectId;
}

test('a group probe returns one result per face, largest first, each with its box, candidates and decision', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'events');
  const amy = await enroll(v, 'amy');
  const bob = await enroll(v, 'bob');
  // Engine order: a stranger in the middle, bob small on the left, amy large on the right.
  const probe = fakeFaces(['bob', 'g', 90], ['zed', 'g', 120], ['amy', 'g', 200]);
  const r = await v.search.identify(admin, { purpose: 'events', image: probe, ...why });
  assert.equal(r.facesInProbe, 3);
  assert.deepEqual(
    r.faces.map((f) => [f.face, f.box.height, f.decision, f.candidates.map((c) => c.subjectId)]),
    [
      [0, 200, 'match', [amy]],
      [1, 120, 'no-match', []],
      [2, 90, 'match', [bob]],
    ],
  );
  assert.equal(r.decision, 'match', 'the top level is the largest face');
  assert.deepEqual(
    r.candidates.map((c) => [c.subjectId, c.rank]),
    [[amy, 1]],
  );
  assert.ok(
    r.faces.every((f) => f.candidates.every((c, i) => c.rank === i + 1)),
    'ranks count within a face',
  );

  // The accounting: which face returned whom, the boxes searched, both people in the audit entry.
  const bobSeen = await searchRepository.disclosuresOf(v.store.db, bob as never);
  assert.deepEqual(
    bobSeen.map((d) => [d.id, d.face, d.rank]),
    [[r.searchId, 2, 1]],
  );
  const row = await v.store.db
    .selectFrom('searches')
    .selectAll()
    .where('id', '=', r.searchId)
    .executeTakeFirstOrThrow();
  assert.deepEqual(
    (JSON.parse(row.faces!) as { height: number }[]).map((b) => b.height),
    [200, 120, 90],
  );
  assert.equal(row.result_count, 2);
  const size = await auditRepository.size(v.store.db);
  const bodies = (await auditRepository.entries(v.store.db, 1, size)).map(
    (x) => JSON.parse(x.body) as { action: string; subjectIds: string[]; detail: Record<string, unknown> },
  );
  const e = bodies.find((x) => x.action === 'search.performed' && x.detail['searchId'] === r.searchId)!;
  assert.deepEqual([...e.subjectIds].sort(), [amy, bob].sort());
  assert.equal((e.detail as { faces: number }).faces, 3);
  await v.close();
});

test('the faces searched are bounded (20 by default, fewer on request) and a detector-score floor skips faces', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'events');
  const crowd = fakeFaces(...Array.from({ length: 25 }, (_, i) => [`p${i}`, 'g', 100 + i] as const));
  const all = await v.search.identify(admin, { purpose: 'events', image: crowd, ...why });
  assert.equal(all.facesInProbe, 25);
  assert.equal(all.faces.length, 20);
  assert.equal(all.faces[0]!.box.height, 124, 'the largest faces are the ones searched');
  const two = await v.search.identifyFaces(admin, { purpose: 'events', image: crowd, maxFaces: 2, ...why });
  assert.deepEqual(
    two.faces.map((f) => f.box.height),
    [124, 123],
  );
  assert.equal(
    await code(v.search.identifyFaces(admin, { purpose: 'events', image: crowd, minDetectorScore: 0.999, ...why })),
    'NO_FACE',
    'every face under the floor: nothing to search',
  );
  await v.close();
});

test('a probe with one face answers as before: its decision at the top and a single entry in faces', async () => {
  const v = await sizedVeil();
  await legalPurpose(v, 'events');
  const amy = await enroll(v, 'amy');
  const r = await v.search.identify(admin, { purpose: 'events', image: fakeFaces(['amy', 'probe']), k: 3, ...why });
  assert.equal(r.faces.length, 1);
  assert.deepEqual(r.faces[0]!.candidates, r.candidates);
  assert.deepEqual(
    r.candidates.map((c) => c.subjectId),
    [amy],
  );
  assert.equal(await code(v.search.identify(admin, { purpose: 'events', image: fakeFaces(), ...why })), 'NO_FACE');
  await v.close();
});

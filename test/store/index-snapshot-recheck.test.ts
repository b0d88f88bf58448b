import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import { indexSegmentRepository } from '../../src/vector/index-segment.repository.js';
import { matchableRepository } from '../../src/vector/matchable.repository.js';
import { uncovered } from '../../src/gallery/index-recheck.js';
import { indexChangeRepository } from '../../src/vector/index-change.repository.js';
import { subjectRepository } from '../../src/gallery/subject.repository.js';
import { FakeAnalyzer, fakePhoto } from '../../support/fake-analyzer.js';
import { isVeilError } from '../../src/errors.js';
import { ENGINE } from '../../support/database.js';
import { pseudoUnit } from '../../support/unit-vectors.js';
import { seedBulk } from '../../bench/scale/startup.js';
import { N, SEGMENT, fullRebuild, seeded, withoutForget, type Setup } from './snapshot.fixture.js';

// Start-up from the snapshot re-checks only what the change feed names since the segments were
// current, and the subject ranges no segment covers (src/gallery/index-recheck.ts). Each change below
// is made while the process that wrote the snapshot is down; each must be gone after its restart.

const system = actors.system('test');
const owners = (v: Veil, i: number) => v.index.ownerOf(v.index.templateIds()[i]!)!.subjectId;
/** Whether a segment row still names a range holding the person (its file would open for them). */
const segmentHolds = async (v: Veil, who: string) =>
  (await indexSegmentRepository.all(v.store.db)).some((r) => r.subjectLo <= who && who <= r.subjectHi);

/** Opens the instance with the snapshot checked in full once older than `maxAgeMs`. */
const openAged = (s: Setup, maxAgeMs: number) =>
  openVeil({
    dataDir: s.dir,
    engine: new FakeAnalyzer(),
    env: {},
    ...s.db,
    index: { quantiseFrom: 64, segmentTemplates: SEGMENT, snapshotMaxAgeMs: maxAgeMs },
  });

test(`${ENGINE}: a person erased, a consent withdrawn and a person restricted by another process while this one was down are absent after a narrow start from the snapshot; a suspended purpose's people stay, refused to every search`, async () => {
  const s = await seeded('veil-snapshot-recheck-');
  // A second quantised purpose with its own segments, to be suspended: its people stay findable by
  // the rights face finder, and the policy refuses its processing.
  const v0 = await s.open(false);
  const q = await v0.purposes.create(system, {
    key: 'other',
    name: 'Other',
    description: 'Find the photos of you taken at our other events.',
    lawfulBasis: 'consent',
  });
  await seedBulk(v0, q.id as PurposeId, 100, (i) => pseudoUnit(N + i));
  await v0.close();
  const v1 = await s.open();
  const [erased, withdrawn, restricted] = [10, 120, 250].map((i) => owners(v1, i)) as [SubjectId, SubjectId, SubjectId];
  await v1.close();
  const v2 = await s.open();
  assert.equal(v2.lifecycle.started?.check, 'narrow');
  assert.equal(v2.lifecycle.started?.decrypted, 0, 'both purposes come from the snapshot');
  assert.ok((await indexSegmentRepository.all(v2.store.db)).some((r) => r.purposeId === q.id));
  await v2.close();
  // Another process whose changes destroy no segment: each is in the feed, every segment outlives
  // the change, and only the restart's check can drop the rows.
  const other = await s.open(false);
  await withoutForget(async () => {
    await other.lifecycle.erase([erased], system, null);
    const { consent } = await other.consents.give(system, {
      purpose: 'snap',
      subjectId: withdrawn,
      noticeText: 'We match your face against photos of our events.',
      noticeVersion: '1',
      method: 'paper',
      collector: 'test',
    });
    await other.consents.withdraw(system, consent.id);
    await other.lifecycle.setRestricted(restricted, true, system, 'do not match');
    await other.purposes.setSuspended(system, 'other', true, 'test');
  }).finally(() => other.close());
  const v = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(v.lifecycle.started?.check, 'narrow');
    for (const who of [erased, withdrawn, restricted]) {
      assert.deepEqual(v.index.templatesOf(who), [], `${who} is not matchable`);
      assert.ok(!(await segmentHolds(v, who)), 'the segment that outlived the change is destroyed');
    }
    assert.equal(v.index.size(q.id as PurposeId), 100, "the suspended purpose's people stay in the index");
    await assert.rejects(
      v.search.identify(system, { purpose: 'other', image: fakePhoto('x'), justification: 'test' }),
      (e) => isVeilError(e, 'PURPOSE_SUSPENDED'),
    );
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: after an erasure destroyed a segment, a narrow start reads the people of its range again (and not the erased one)`, async () => {
  const s = await seeded('veil-snapshot-recheck-');
  const v0 = await s.open();
  const erased = owners(v0, 130) as SubjectId;
  await v0.lifecycle.erase([erased], system, null);
  assert.equal((await indexSegmentRepository.all(v0.store.db)).length, N / SEGMENT - 1);
  await v0.close();
  const v = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(v.lifecycle.started?.check, 'narrow');
    assert.equal(v.lifecycle.started?.decrypted, SEGMENT - 1, 'the rest of the destroyed segment, decrypted');
    assert.equal(v.lifecycle.started?.templates, N - 1);
    assert.deepEqual(v.index.templatesOf(erased), []);
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
  // That start wrote a fresh snapshot (close waits for it): the next one decrypts nothing again.
  const next = await s.open();
  try {
    assert.equal(next.lifecycle.started?.check, 'narrow');
    assert.equal(next.lifecycle.started?.decrypted, 0);
    assert.deepEqual(next.index.snapshot(), snap);
  } finally {
    await next.close();
  }
});

/** A change the feed does not name (a database edit no service made): only a full check sees it. */
const unrecorded = (v: Veil, who: string) =>
  subjectRepository.setState(v.store.db, who as SubjectId, 'restricted', new Date().toISOString());

test(`${ENGINE}: a change feed pruned past the snapshot's position forces the full check, and a fresh snapshot is written`, async () => {
  const s = await seeded('veil-snapshot-recheck-');
  const v0 = await s.open();
  const [a, b, c] = [20, 140, 260].map((i) => owners(v0, i));
  await unrecorded(v0, a!);
  const at = new Date().toISOString();
  for (const who of [b!, c!]) await v0.store.transaction((tx) => indexChangeRepository.insert(tx, who, at));
  // A follower far ahead prunes what the snapshot would need (the entry for b).
  await indexChangeRepository.pruneUpTo(v0.store.db, (await indexChangeRepository.lastSeq(v0.store.db)) - 1);
  const before = (await indexSegmentRepository.all(v0.store.db)).map((r) => r.id);
  await v0.close();
  const v = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(v.lifecycle.started?.check, 'pruned');
    assert.deepEqual(v.index.templatesOf(a!), [], 'seen by the full check only');
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
  const again = await s.open();
  try {
    assert.ok(!(await indexSegmentRepository.all(again.store.db)).some((r) => before.includes(r.id)));
    assert.equal(again.lifecycle.started?.check, 'narrow', 'the fresh snapshot is current again');
    assert.equal(again.lifecycle.started?.decrypted, 0);
  } finally {
    await again.close();
  }
});

test(`${ENGINE}: a snapshot older than the bound is checked in full`, async () => {
  const s = await seeded('veil-snapshot-recheck-');
  const v0 = await s.open();
  const a = owners(v0, 70);
  await unrecorded(v0, a);
  await v0.close();
  const young = await openAged(s, 3_600_000);
  try {
    assert.equal(young.lifecycle.started?.check, 'narrow');
    assert.equal(young.index.templatesOf(a).length, 1, 'the narrow check trusts the feed');
  } finally {
    await young.close();
  }
  const v = await openAged(s, 0);
  try {
    assert.equal(v.lifecycle.started?.check, 'too-old');
    assert.deepEqual(v.index.templatesOf(a), []);
  } finally {
    await v.close();
  }
});

test(`${ENGINE}: the uncovered ranges read the same rows whether the database collation is trusted or "C" is forced`, async () => {
  const s = await seeded('veil-snapshot-recheck-');
  const v = await s.open();
  try {
    const rows = await indexSegmentRepository.all(v.store.db);
    // Two segments' ranges left out, a one-id span, and an unbounded end.
    const spans = [...uncovered(rows.slice(2, 4)), { from: rows[0]!.subjectLo, to: rows[0]!.subjectLo }];
    const read = async (order: 'sqlite' | 'postgres' | 'byte-ordered') =>
      (await matchableRepository.refsIn(v.store.db, order, v.vault.model, s.purposeId, spans)).map((r) => r.id).sort();
    const trusted = await read('byte-ordered');
    assert.ok(trusted.length > N / 2, 'most of the purpose lies outside two segments');
    assert.deepEqual(await read(ENGINE), trusted);
    if (ENGINE === 'postgres')
      assert.equal(await matchableRepository.byteOrdered(v.store.db), true, 'the test cluster is C.UTF-8');
  } finally {
    await v.close();
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId, TemplateId } from '../../src/ids.js';
import { SEGMENT_DIR, segmentOwner } from '../../src/gallery/index-snapshot.js';
import { AdaptiveIndex } from '../../src/vector/adaptive-index.js';
import { indexSegmentRepository, type SegmentRow } from '../../src/vector/index-segment.repository.js';
import { indexChangeRepository } from '../../src/vector/index-change.repository.js';
import { opsRepository } from '../../src/ops/ops.repository.js';
import type { SegmentRows } from '../../src/vector/segment-codec.js';
import { liveIndex } from '../../src/gallery/index-startup.js';
import { ENGINE } from '../../support/database.js';
import { N, SEGMENT, fullRebuild, readable, seeded, type Setup } from './snapshot.fixture.js';

// A segment a change destroyed is written again from the live index, in the background, without
// the changed person (issue 17 item 3): the next start loads the range instead of decrypting it.

const system = actors.system('test');

/** The people of the segment holding the i-th template, sorted, and that segment's row. */
async function segmentOf(v: Veil, i: number) {
  const who = v.index.ownerOf(v.index.templateIds()[i]!)!.subjectId;
  const row = (await indexSegmentRepository.all(v.store.db)).find((r) => r.subjectLo <= who && who <= r.subjectHi)!;
  const people = v.index
    .templateIds()
    .map((t) => v.index.ownerOf(t)!.subjectId)
    .filter((s) => row.subjectLo <= s && s <= row.subjectHi)
    .sort();
  return { who, row, people };
}

/** The int8 row and sign code the live index holds for a template. */
function rowOf(v: Veil, s: Setup, t: TemplateId) {
  const q = (v.index.indexOf(s.purposeId) as AdaptiveIndex).quantisedIndex!;
  const { rows, codes } = q.exportRows([t]);
  return { row: Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength), code: Buffer.from(codes) };
}

/** How many rows of the segment have these int8 components, and how many this sign code. */
function copies(seg: SegmentRows, r: { row: Buffer; code: Buffer }) {
  let rows = 0;
  let codes = 0;
  for (let i = 0; i < seg.templateIds.length; i++) {
    if (Buffer.from(seg.rows.buffer, seg.rows.byteOffset + i * 512, 512).equals(r.row)) rows++;
    if (Buffer.from(seg.codes.subarray(i * 64, (i + 1) * 64)).equals(r.code)) codes++;
  }
  return { rows, codes };
}

/** Whether the segment's key is still live in the keystore. */
const keyLive = async (v: Veil, id: string) =>
  (await v.keyring.keystore.readAll()).some((k) => k.owner === segmentOwner(id) && k.state === 'live');

const inRange = (r: SegmentRow) => (s: string) => r.subjectLo <= s && s <= r.subjectHi;

test(`${ENGINE}: an erasure's destroyed segment is written again from the live index without the person; the next start loads the range and decrypts nothing`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  let erased: SubjectId;
  let erasedRow: { row: Buffer; code: Buffer };
  let others: string[];
  try {
    const seg = await segmentOf(v, 123);
    erased = seg.who;
    const template = v.index.templatesOf(erased)[0]!;
    erasedRow = rowOf(v, s, template);
    others = seg.people.filter((p) => p !== erased);
    const before = (await readable(v, s.dir, s.purposeId)).find((x) => x.id === seg.row.id)!;
    assert.deepEqual(copies(before, erasedRow), { rows: 1, codes: 1 }, 'the check finds the row where it is');
    // Its time (one segment destroyed, none written in the step) is measured in bench/scale/snapshot.ts.
    await v.lifecycle.erase([erased], system, null);
    // (a) as before: the old segment's row, key and file are gone at once, before any rewrite.
    assert.equal(await keyLive(v, seg.row.id), false);
    assert.ok(!existsSync(join(s.dir, SEGMENT_DIR, `${seg.row.id}.seg`)));
    assert.equal(v.rewrites!.runs.length, 0, 'the erasure did not wait for the rewrite');
    await v.rewrites!.flush();
    assert.deepEqual(
      v.rewrites!.runs.map((r) => ({ ...r, ms: 0, since: 0, waited: null })),
      [{ ranges: 1, segments: 1, templates: SEGMENT - 1, ms: 0, since: 0, waited: null }],
    );
    // (b) a new segment for the range: the erased person's ids, int8 row and code absent, everyone else present.
    const fresh = (await indexSegmentRepository.all(v.store.db)).filter(
      (r) => r.id !== seg.row.id && others.some(inRange(r)),
    );
    assert.equal(fresh.length, 1);
    assert.ok(await keyLive(v, fresh[0]!.id));
    const opened = (await readable(v, s.dir, s.purposeId)).find((x) => x.id === fresh[0]!.id)!;
    assert.deepEqual([...opened.subjectIds].sort(), others);
    assert.ok(!opened.templateIds.includes(template));
    assert.deepEqual(copies(opened, erasedRow), { rows: 0, codes: 0 });
    // No readable file anywhere holds the person or their row.
    for (const x of await readable(v, s.dir, s.purposeId)) {
      assert.ok(!x.subjectIds.includes(erased));
      assert.equal(copies(x, erasedRow).rows, 0);
    }
    assert.equal((await readable(v, s.dir, s.purposeId)).length, N / SEGMENT);
  } finally {
    await v.close();
  }
  // (c) the restart loads the range from the new segment: nothing decrypted from the store.
  const again = await s.open();
  let snap: Record<string, string[]>;
  try {
    const { decrypted, fromSnapshot, check, segments } = again.lifecycle.started!;
    assert.deepEqual(
      { decrypted, fromSnapshot, check, segments },
      {
        decrypted: 0,
        fromSnapshot: N - 1,
        check: 'narrow',
        segments: N / SEGMENT,
      },
    );
    assert.deepEqual(again.index.templatesOf(erased), []);
    snap = again.index.snapshot();
  } finally {
    await again.close();
  }
  // (d) what that start holds is what a full rebuild holds.
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a change to another person of the range while its rewrite writes the file leaves no segment holding their stale row; the range is written again without them`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  let late: SubjectId;
  try {
    const seg = await segmentOf(v, 40);
    late = seg.people.find((p) => p !== seg.who)! as SubjectId;
    const lateRow = rowOf(v, s, v.index.templatesOf(late)[0]!);
    await v.lifecycle.erase([seg.who], system, null);
    // The hook: once the rewrite has committed its segment's row and written the file (its check
    // whether the row is still there), another person of the range is restricted.
    const has = indexSegmentRepository.has;
    let hooked = 0;
    indexSegmentRepository.has = async (ex, id) => {
      if (!hooked++) await v.lifecycle.setRestricted(late, true, system, 'test');
      return has(ex, id);
    };
    try {
      await v.rewrites!.flush();
    } finally {
      indexSegmentRepository.has = has;
    }
    assert.equal(hooked, 1);
    // That segment was destroyed by the restriction (row, key, file): nothing readable holds them.
    assert.deepEqual(
      v.rewrites!.runs.map((r) => r.segments),
      [0],
    );
    for (const x of await readable(v, s.dir, s.purposeId)) {
      assert.ok(!x.subjectIds.includes(late), `segment ${x.id} holds the restricted person`);
      assert.equal(copies(x, lateRow).rows, 0);
    }
    // The restriction scheduled the range again: written without either person.
    await v.rewrites!.flush();
    assert.equal(v.rewrites!.runs[1]?.segments, 1);
    const again = (await readable(v, s.dir, s.purposeId)).filter((x) => x.subjectIds.some(inRange(seg.row)));
    assert.equal(again.length, 1);
    assert.deepEqual(
      [...again[0]!.subjectIds].sort(),
      seg.people.filter((p) => p !== seg.who && p !== late),
    );
  } finally {
    await v.close();
  }
  const r = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(r.lifecycle.started?.decrypted, 0);
    assert.deepEqual(r.index.templatesOf(late), []);
    snap = r.index.snapshot();
  } finally {
    await r.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a rewrite from an index whose follower lags leaves out a person another process changed after the position it is current at`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  let late: SubjectId;
  try {
    const seg = await segmentOf(v, 200);
    late = seg.people.find((p) => p !== seg.who)! as SubjectId;
    await v.follower.stop(); // PostgreSQL polls every 5 s: this index has not seen the change below
    await v.lifecycle.erase([seg.who], system, null);
    // Snapshot off there: a start from this snapshot would write a fresh one (a tenth of it was destroyed).
    const other = await s.open(false);
    try {
      await other.lifecycle.setRestricted(late, true, system, 'test');
    } finally {
      await other.close();
    }
    assert.ok(v.index.templatesOf(late).length > 0, 'this index still holds them');
    await v.rewrites!.flush();
    assert.equal(v.rewrites!.runs[0]?.segments, 1);
    assert.ok(v.rewrites!.runs[0]!.since < (await indexChangeRepository.lastSeq(v.store.db)));
    for (const x of await readable(v, s.dir, s.purposeId)) assert.ok(!x.subjectIds.includes(late));
  } finally {
    await v.close();
  }
  // The new segment is current at a position before the restriction: the start reads them from the feed.
  const r = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(r.lifecycle.started?.check, 'narrow');
    assert.deepEqual(r.index.templatesOf(late), []);
    snap = r.index.snapshot();
  } finally {
    await r.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a burst of changes in two ranges makes one rewrite of those two ranges; while another process holds the writer's lease it waits`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  try {
    const a = await segmentOf(v, 10);
    // Someone of another segment (template order is not subject order).
    const other = v.index.templateIds().findIndex((t) => !inRange(a.row)(v.index.ownerOf(t)!.subjectId));
    const b = await segmentOf(v, other);
    assert.notEqual(a.row.id, b.row.id);
    const c = a.people.find((p) => p !== a.who)! as SubjectId;
    await opsRepository.tryLease(v.store.db, 'index-snapshot', 'another-process', new Date(), 60_000);
    for (const who of [a.who, c, b.who]) await v.lifecycle.erase([who as SubjectId], system, null);
    await v.rewrites!.flush();
    assert.deepEqual(
      v.rewrites!.runs.map((r) => [r.ranges, r.segments, r.skipped]),
      [[2, 0, 'lease']],
    );
    // Released a millisecond back: a lease is free only once it expired before now, not in the same millisecond.
    await opsRepository.tryLease(v.store.db, 'index-snapshot', 'another-process', new Date(Date.now() - 1), 0);
    await v.rewrites!.flush();
    assert.deepEqual(
      v.rewrites!.runs.map((r) => [r.ranges, r.segments, r.templates]),
      [
        [2, 0, 0],
        [2, 2, 2 * SEGMENT - 3],
      ],
    );
  } finally {
    await v.close();
  }
  const r = await s.open();
  try {
    assert.equal(r.lifecycle.started?.decrypted, 0);
    assert.equal(r.lifecycle.started?.fromSnapshot, N - 3);
  } finally {
    await r.close();
  }
});

test(`${ENGINE}: an erasure by a process with the snapshot off still destroys the segment an earlier run left holding the person`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const off = await s.open(false);
  try {
    const who = off.index.ownerOf(off.index.templateIds()[99]!)!.subjectId;
    const held = (await readable(off, s.dir, s.purposeId)).filter((x) => x.subjectIds.includes(who));
    assert.equal(held.length, 1);
    await off.lifecycle.erase([who], system, null);
    assert.deepEqual(
      (await readable(off, s.dir, s.purposeId)).filter((x) => x.subjectIds.includes(who)),
      [],
    );
    assert.equal(await keyLive(off, held[0]!.id), false);
    assert.ok(!existsSync(join(s.dir, SEGMENT_DIR, `${held[0]!.id}.seg`)));
    assert.equal(off.rewrites, undefined, 'nothing is written with the snapshot off');
  } finally {
    await off.close();
  }
});

test(`${ENGINE}: a change that fails after taking the person out of this index, while a rewrite of their range runs, does not lose them at the next start`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  let kept: SubjectId;
  try {
    const seg = await segmentOf(v, 150);
    // Someone well inside the range (an end left out of the new segment would be read anyway).
    kept = seg.people.slice(2, -2).find((p) => p !== seg.who)! as SubjectId;
    await v.lifecycle.erase([seg.who], system, null);
    // The restriction takes them out of this index, then its transaction fails; the rewrite runs in between.
    const transaction = v.store.transaction;
    let calls = 0;
    v.store.transaction = (async (fn: never) => {
      if (calls++) return transaction.call(v.store, fn);
      await v.rewrites!.flush();
      throw new Error('connection lost');
    }) as typeof transaction;
    try {
      await assert.rejects(v.lifecycle.setRestricted(kept, true, system, 'test'), /connection lost/);
    } finally {
      v.store.transaction = transaction;
    }
    assert.equal(v.rewrites!.runs[0]?.segments, 1);
    assert.ok(v.index.templatesOf(kept).length > 0, 'back in this index');
  } finally {
    await v.close();
  }
  const r = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.ok(r.index.templatesOf(kept).length > 0, 'still matchable after the restart');
    snap = r.index.snapshot();
  } finally {
    await r.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a range a full snapshot covered since it was destroyed is not written again (no row in two segments)`, async () => {
  const s = await seeded('veil-snapshot-rewrite-');
  const v = await s.open();
  try {
    const seg = await segmentOf(v, 70);
    await v.lifecycle.erase([seg.who], system, null);
    // A fresh snapshot of the whole index (as a start that found the last one stale writes) before the rewrite runs.
    const w = await liveIndex(
      { store: v.store, keyring: v.keyring, vault: v.vault, dataDir: s.dir, dims: 512 },
      { segmentTemplates: SEGMENT },
    ).snapshots.write(v.index, v.follower.position);
    assert.equal(w?.templates, N - 1);
    await v.rewrites!.flush();
    assert.equal(v.rewrites!.runs[0]?.segments, 0);
  } finally {
    await v.close();
  }
  const r = await s.open();
  try {
    const { decrypted, dropped, fromSnapshot } = r.lifecycle.started!;
    assert.deepEqual({ decrypted, dropped, fromSnapshot }, { decrypted: 0, dropped: 0, fromSnapshot: N - 1 });
  } finally {
    await r.close();
  }
});

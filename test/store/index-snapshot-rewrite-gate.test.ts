import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId, TemplateId } from '../../src/ids.js';
import { AdaptiveIndex } from '../../src/vector/adaptive-index.js';
import { indexSegmentRepository, type SegmentRow } from '../../src/vector/index-segment.repository.js';
import { ENGINE } from '../../support/database.js';
import type { IndexSnapshots } from '../../src/gallery/index-snapshot.js';
import { N, SEGMENT, fullRebuild, readable, seeded, type Setup } from './snapshot.fixture.js';

// Erasures issued while a rewrite of destroyed segments runs (issue 17): they complete without
// waiting for it (its steps wait for them: ChangeGate), and no segment it writes holds them.

const system = actors.system('test');
const inRange = (r: SegmentRow) => (s: string) => r.subjectLo <= s && s <= r.subjectHi;

/** The row of the segment holding this person. */
async function rowOf(v: Veil, who: string) {
  return (await indexSegmentRepository.all(v.store.db)).find((r) => inRange(r)(who))!;
}

/** A person's int8 row and sign code as the live index holds them (to look for in decrypted segments). */
function codesOf(v: Veil, s: Setup, who: string) {
  const q = (v.index.indexOf(s.purposeId) as AdaptiveIndex).quantisedIndex!;
  const { rows, codes } = q.exportRows([v.index.templatesOf(who as SubjectId)[0]! as TemplateId]);
  return { row: Buffer.from(rows.buffer, rows.byteOffset, rows.byteLength), code: Buffer.from(codes) };
}

test(`${ENGINE}: erasures issued while a rewrite runs complete without waiting for it; no segment it writes holds them, decrypted`, async () => {
  const s = await seeded('veil-snapshot-rewrite-gate-');
  const v = await s.open();
  const erased: string[] = [];
  try {
    const people = v.index.templateIds().map((t) => v.index.ownerOf(t)!.subjectId as string);
    const first = people[7]!;
    const range = await rowOf(v, first);
    // Another person of the range being written, and one of another segment.
    const same = people.find((p) => p !== first && inRange(range)(p))!;
    const other = people.find((p) => !inRange(range)(p))!;
    const wanted = [first, same, other].map((p) => ({ p, ...codesOf(v, s, p) }));
    await v.lifecycle.erase([first as SubjectId], system, null);
    erased.push(first);
    // Once the rewrite has committed its new segment's row (step 1), at its next step, both erasures
    // are issued and have begun (the one of the range being written first) before it goes on. That
    // step's wait begins while they are in flight, and it does not go on until the test lets it: the
    // erasures must complete while the rewrite is held there.
    const gate = (v.lifecycle as unknown as { deps: { snapshots: IndexSnapshots } }).deps.snapshots.gate;
    const insert = indexSegmentRepository.insert;
    const quiet = gate.quiet.bind(gate);
    let named = false;
    let resumed = false;
    let issued!: () => void;
    const begun = new Promise<void>((r) => (issued = r));
    let go!: () => void;
    const paused = new Promise<void>((r) => (go = r));
    let during: Promise<unknown> | undefined;
    indexSegmentRepository.insert = async (ex, row) => {
      await insert(ex, row);
      named = true;
    };
    gate.quiet = async () => {
      if (named && !during) {
        const a = v.lifecycle.erase([same as SubjectId], system, null);
        while (!gate.busy) await new Promise((r) => setImmediate(r));
        during = Promise.all([a, v.lifecycle.erase([other as SubjectId], system, null)]);
        const step = quiet();
        issued();
        await paused;
        resumed = true;
        return step;
      }
      return quiet();
    };
    let flushing: Promise<void> | undefined;
    try {
      flushing = v.rewrites!.flush();
      await Promise.race([begun, flushing]);
      assert.ok(during, 'the erasures were issued during the rewrite');
      // A generous hang guard: an erasure that waited for the rewrite would never complete here.
      let guard: NodeJS.Timeout | undefined;
      const stuck = new Promise<'stuck'>((r) => (guard = setTimeout(() => r('stuck'), 60_000)));
      const outcome = await Promise.race([during, stuck]).finally(() => clearTimeout(guard));
      assert.notEqual(outcome, 'stuck', 'an erasure waited for the held rewrite');
      assert.equal(resumed, false);
    } finally {
      go();
      await flushing;
      indexSegmentRepository.insert = insert;
      gate.quiet = quiet;
    }
    erased.push(same, other);
    const run = v.rewrites!.runs[0]!;
    assert.ok(run.waited.count >= 1, 'the rewrite waited for the erasures');
    // The segment it had named was destroyed by the erasure of `same`: not counted, not readable.
    assert.equal(run.segments, 0);
    // The ranges both erasures destroyed are written again, without anyone erased.
    await v.rewrites!.flush();
    assert.equal(v.rewrites!.runs.length, 2);
    assert.equal(v.rewrites!.runs[1]!.segments, 2, JSON.stringify(v.rewrites!.runs));
    const segments = await readable(v, s.dir, s.purposeId);
    assert.equal(segments.length, N / SEGMENT);
    for (const seg of segments)
      for (const w of wanted) {
        assert.ok(!seg.subjectIds.includes(w.p), `segment ${seg.id} names an erased person`);
        for (let i = 0; i < seg.templateIds.length; i++) {
          const row = Buffer.from(seg.rows.buffer, seg.rows.byteOffset + i * 512, 512);
          assert.ok(!row.equals(w.row), `segment ${seg.id} holds an erased person's int8 row`);
          assert.ok(!Buffer.from(seg.codes.subarray(i * 64, (i + 1) * 64)).equals(w.code));
        }
      }
    // Everyone else of the two ranges is in a segment again.
    const held = new Set(segments.flatMap((x) => x.subjectIds));
    assert.deepEqual(
      people.filter((p) => !erased.includes(p) && !held.has(p)),
      [],
    );
  } finally {
    await v.close();
  }
  const r = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(r.lifecycle.started?.decrypted, 0);
    assert.equal(r.lifecycle.started?.fromSnapshot, N - 3);
    for (const p of erased) assert.deepEqual(r.index.templatesOf(p as SubjectId), []);
    snap = r.index.snapshot();
  } finally {
    await r.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

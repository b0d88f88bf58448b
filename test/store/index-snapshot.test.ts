import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId, TemplateId } from '../../src/ids.js';
import { open as openSealed } from '../../src/privacy/keys.js';
import { SEGMENT_DIR, segmentOwner } from '../../src/gallery/index-snapshot.js';
import { decodeSegment, segmentAad, type SegmentRows } from '../../src/vector/segment-codec.js';
import { indexSegmentRepository } from '../../src/vector/index-segment.repository.js';
import { AdaptiveIndex } from '../../src/vector/adaptive-index.js';
import { BACKUP_DIRS } from '../../src/ops/backup.service.js';
import { opsRepository } from '../../src/ops/ops.repository.js';
import { indexChangeRepository } from '../../src/vector/index-change.repository.js';
import { liveIndex } from '../../src/gallery/index-startup.js';
import { ENGINE } from '../../support/database.js';
import { pseudoUnit as unit } from '../../support/unit-vectors.js';
import { N, SEGMENT, fullRebuild, seeded, withoutForget } from './snapshot.fixture.js';

/** Every segment file left, opened the way an attacker holding the data directory and master key would. */
async function openEverySegment(v: Veil, dir: string): Promise<SegmentRows[]> {
  const out: SegmentRows[] = [];
  const rows = new Map((await indexSegmentRepository.all(v.store.db)).map((r) => [r.id, r]));
  for (const f of existsSync(join(dir, SEGMENT_DIR)) ? readdirSync(join(dir, SEGMENT_DIR)) : []) {
    const id = f.replace(/\.seg$/, '');
    const r = rows.get(id);
    assert.ok(r, `file ${f} is named by a segment row`);
    const key = await v.keyring.get(v.store.db, segmentOwner(id));
    out.push(
      decodeSegment(openSealed(key, readFileSync(join(dir, SEGMENT_DIR, f)), segmentAad(id, r.model, r.purposeId))),
    );
  }
  return out;
}

/** How many of the segment's int8 rows equal `row` (views of the decrypted file: its offset counts). */
function rowsEqualTo(seg: SegmentRows, row: Int8Array): number {
  let n = 0;
  for (let i = 0; i < seg.templateIds.length; i++)
    if (Buffer.from(seg.rows.subarray(i * 512, (i + 1) * 512)).equals(Buffer.from(row))) n++;
  return n;
}

/** Whether any live key of the keystore opens these sealed bytes (as a segment of any id). */
async function anyLiveKeyOpens(v: Veil, sealed: Buffer, aad: string): Promise<boolean> {
  for (const s of await v.keyring.keystore.readAll()) {
    if (s.state !== 'live' || !s.wrapped) continue;
    const key = v.keyring.master.unwrapSlot(s.wrapped, s.owner, s.slot);
    try {
      openSealed(key, sealed, aad);
      return true;
    } catch {
      // not this key
    }
  }
  return false;
}

test(`${ENGINE}: a start from the sealed snapshot decrypts nothing and holds what a full rebuild holds`, async () => {
  const s = await seeded('veil-index-snapshot-');
  const v = await s.open();
  const probe = unit(17);
  let snap: Record<string, string[]>;
  let fromSnapshot;
  try {
    assert.deepEqual(
      { ...v.lifecycle.started, since: 0, ms: null },
      {
        templates: N,
        fromSnapshot: N,
        decrypted: 0,
        segments: N / SEGMENT,
        dropped: 0,
        since: 0,
        ms: null,
        check: 'narrow',
      },
    );
    assert.equal(readdirSync(join(s.dir, SEGMENT_DIR)).length, N / SEGMENT);
    // The snapshot's rows are sealed: no template id is in any file in clear.
    const some = v.index.templateIds()[0]!;
    for (const f of readdirSync(join(s.dir, SEGMENT_DIR)))
      assert.ok(!readFileSync(join(s.dir, SEGMENT_DIR, f)).includes(some), `${f} holds an id in clear`);
    fromSnapshot = await v.index.search(s.purposeId, probe, 5, -1);
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
  const full = await s.open(false);
  try {
    assert.deepEqual(await full.index.search(s.purposeId, probe, 5, -1), fromSnapshot);
    assert.ok(fromSnapshot[0]!.similarity > 0.999, 'the seeded vector finds itself');
  } finally {
    await full.close();
  }
});

test(`${ENGINE}: erasure destroys the segment holding the person in the same step; no file left holds them, no live key opens the old one, a restart does not bring them back`, async () => {
  const s = await seeded('veil-index-snapshot-');
  const v = await s.open();
  let erased: SubjectId;
  let template: TemplateId;
  let row: Int8Array;
  try {
    template = v.index.templateIds()[123]!;
    erased = v.index.ownerOf(template)!.subjectId;
    row = (v.index.indexOf(s.purposeId) as AdaptiveIndex).quantisedIndex!.exportRows([template]).rows;
    const before = new Map(
      readdirSync(join(s.dir, SEGMENT_DIR)).map((f) => [f, readFileSync(join(s.dir, SEGMENT_DIR, f))]),
    );
    const segs = await indexSegmentRepository.all(v.store.db);
    const holding = segs.filter((r) => r.subjectLo <= erased && erased <= r.subjectHi);
    assert.equal(holding.length, 1);
    const holdingSeg = (await openEverySegment(v, s.dir)).find((x) => x.id === holding[0]!.id)!;
    // Its time (one segment destroyed, none written in the step) is measured in bench/scale/snapshot.ts.
    await v.lifecycle.erase([erased], actors.system('test'), null);

    const gone = `${holding[0]!.id}.seg`;
    assert.ok(!existsSync(join(s.dir, SEGMENT_DIR, gone)), 'the segment file is deleted');
    const left = await openEverySegment(v, s.dir);
    assert.equal(left.length, N / SEGMENT - 1);
    for (const seg of left) {
      assert.ok(!seg.subjectIds.includes(erased));
      assert.ok(!seg.templateIds.includes(template));
      assert.equal(rowsEqualTo(seg, row), 0, 'the int8 row is absent');
    }
    // The same check finds the row in the segment that held it (a copy of its bytes opened with its key, kept above).
    assert.equal(rowsEqualTo(holdingSeg, row), 1, 'the check finds the row where it is');
    // The removed segment's bytes (as a copy taken before might hold them): no key left opens them.
    const r = holding[0]!;
    assert.equal(await anyLiveKeyOpens(v, before.get(gone)!, segmentAad(r.id, r.model, r.purposeId)), false);
    // and the other segments' keys are still live (the check above would have found a wrong one).
    const other = segs.find((x) => x.id !== r.id)!;
    assert.equal(
      await anyLiveKeyOpens(v, before.get(`${other.id}.seg`)!, segmentAad(other.id, other.model, other.purposeId)),
      true,
    );
  } finally {
    await v.close();
  }
  const again = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.ok(!again.index.templateIds().includes(template));
    assert.deepEqual(again.index.templatesOf(erased), []);
    // The erased person's segment-mates are read from the store again; nobody else is decrypted.
    assert.equal(again.lifecycle.started?.fromSnapshot, N - SEGMENT);
    assert.equal(again.lifecycle.started?.decrypted, SEGMENT - 1);
    snap = again.index.snapshot();
  } finally {
    await again.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a tampered segment is dropped (file, row and key) and its rows are decrypted from the store`, async () => {
  const s = await seeded('veil-index-snapshot-');
  const files = readdirSync(join(s.dir, SEGMENT_DIR));
  const victim = join(s.dir, SEGMENT_DIR, files[2]!);
  const b = readFileSync(victim);
  b[b.length >> 1] = b[b.length >> 1]! ^ 0x40;
  writeFileSync(victim, b);
  const v = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.equal(v.lifecycle.started?.dropped, 1);
    assert.equal(v.lifecycle.started?.decrypted, SEGMENT);
    assert.ok(!existsSync(victim));
    const id = files[2]!.replace(/\.seg$/, '');
    assert.ok(!(await indexSegmentRepository.all(v.store.db)).some((r) => r.id === id));
    await assert.rejects(v.keyring.get(v.store.db, segmentOwner(id)), /destroyed/);
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test(`${ENGINE}: a person restricted while this process was down is not matchable after its restart; one restricted through another process's lifecycle loses their segment`, async () => {
  const s = await seeded('veil-index-snapshot-');
  const v0 = await s.open();
  const [a, b] = [v0.index.templateIds()[10]!, v0.index.templateIds()[250]!].map((t) => v0.index.ownerOf(t)!.subjectId);
  const segsBefore = (await indexSegmentRepository.all(v0.store.db)).length;
  // Through another process's lifecycle: the segment holding b goes at once.
  await v0.lifecycle.setRestricted(b!, true, actors.system('test'), 'test');
  assert.equal((await indexSegmentRepository.all(v0.store.db)).length, segsBefore - 1);
  await v0.close();
  // Through a change that destroys no segment: in the change feed, but the snapshot still holds a.
  const off = await s.open(false);
  await withoutForget(() => off.lifecycle.setRestricted(a!, true, actors.system('test'), 'test'));
  await off.close();
  const v = await s.open();
  let snap: Record<string, string[]>;
  try {
    assert.deepEqual(v.index.templatesOf(a!), []);
    assert.deepEqual(v.index.templatesOf(b!), []);
    snap = v.index.snapshot();
  } finally {
    await v.close();
  }
  assert.deepEqual(snap, await fullRebuild(s));
});

test('backups do not carry the index snapshot', () => {
  assert.ok(!(BACKUP_DIRS as readonly string[]).includes(SEGMENT_DIR));
});

test(`${ENGINE}: a snapshot written from an index that missed a change committed meanwhile (another process's erasure) leaves that person out`, async () => {
  const s = await seeded('veil-index-snapshot-');
  const v = await s.open();
  try {
    const since = v.lifecycle.started!.since;
    const late = v.index.ownerOf(v.index.templateIds()[77]!)!.subjectId;
    // Committed elsewhere after this index was read: only the change feed says so (no follower ran).
    await v.store.transaction((tx) => indexChangeRepository.insert(tx, late, new Date().toISOString()));
    const before = (await indexSegmentRepository.all(v.store.db)).map((r) => r.id);
    const snapshots = liveIndex(
      { store: v.store, keyring: v.keyring, vault: v.vault, dataDir: s.dir, dims: 512 },
      { segmentTemplates: SEGMENT },
    ).snapshots!;
    const w = await snapshots.write(v.index, since);
    assert.deepEqual(w, { segments: N / SEGMENT, templates: N - 1 });
    const after = await indexSegmentRepository.all(v.store.db);
    assert.equal(after.length, N / SEGMENT);
    assert.ok(!after.some((r) => before.includes(r.id)), 'the previous segments are gone');
    for (const seg of await openEverySegment(v, s.dir)) assert.ok(!seg.subjectIds.includes(late));
    // A second writer while the lease is held elsewhere writes nothing.
    await opsRepository.tryLease(v.store.db, 'index-snapshot', 'another-process', new Date(), 60_000);
    assert.equal(await snapshots.write(v.index, since), null);
  } finally {
    await v.close();
  }
});

import { closeSync, existsSync, fstatSync, openSync, readdirSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, Tx } from '../store/store.js';
import { newId, type PurposeId, type SubjectId, type TemplateId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { opsRepository } from '../ops/ops.repository.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { AdaptiveIndex } from '../vector/adaptive-index.js';
import { QuantizedIndex } from '../vector/quantized-index.js';
import { indexSegmentRepository as segments, type SegmentRow } from '../vector/index-segment.repository.js';
import { decodeSegment, openInto, segmentAad, type SegmentRows } from '../vector/segment-codec.js';
import { quantised, writeSegments, type SegmentRange } from './index-snapshot-writer.js';
import { REWRITE_DELAY_MS, SegmentRewrites } from './index-segment-rewrite.js';
import type { IndexOptions } from './index-startup.js';
import { ChangeGate } from './change-gate.js';

/** Snapshot segments live here, under the data directory (never in a backup: BACKUP_DIRS). */
export const SEGMENT_DIR = 'index';
export const SEGMENT_TEMPLATES = 65_536;
/** The keystore owner of a segment's key. */
export const segmentOwner = (id: string) => `idxseg:${id}`;
const segmentPath = (id: string) => join(SEGMENT_DIR, `${id}.seg`);
/** A file no row names younger than this may be a segment another process is writing. */
const ORPHAN_GRACE_MS = 3_600_000;
const LEASE = 'index-snapshot';
const LEASE_MS = 30 * 60_000;

export interface SnapshotLoad {
  readonly segments: number;
  readonly templates: number;
  /** Segments that could not be used (key destroyed, file missing, tampered): deleted, keys destroyed. */
  readonly dropped: number;
  /** The rows of the segments loaded (their purposes, subject ranges and feed positions). */
  readonly loaded: readonly SegmentRow[];
}

/**
 * The sealed, segmented snapshot of the quantised index, so that start-up need not decrypt every
 * template again. A segment holds up to `segmentTemplates` rows of one purpose, sorted by subject id
 * (their codes, int8 components and scales, the purpose's centre, template and subject ids), sealed
 * with AES-256-GCM under a fresh data key in its own keystore slot, named `idxseg:<id>` in key_slots,
 * so destroying that slot makes the file unreadable as it does a person's templates. The database row
 * names the range of subject ids the segment holds: any change to a person's face data, in any process,
 * finds the segments holding them and destroys their keys in the same transaction (`forget`).
 */
export class IndexSnapshots {
  readonly segmentTemplates: number;
  /** Older than this, start-up checks the snapshot in full (index-recheck.ts; undefined: its default). */
  readonly maxAgeMs: number | undefined;
  private readonly holder = `${process.pid}:${newId.other('w')}`;
  /** Whether snapshots are loaded and written; when not, changes still destroy the segments on disk. */
  readonly enabled: boolean;
  private rewrites: SegmentRewrites | undefined;
  /** Changes in flight in this process (FaceDataLifecycle): segment writes take their steps between them. */
  readonly gate = new ChangeGate();

  constructor(
    private readonly deps: { store: Store; keyring: KeyRing; dataDir: string; model: string },
    private readonly opts: IndexOptions = {},
  ) {
    this.enabled = opts.snapshot !== false;
    this.segmentTemplates = opts.segmentTemplates ?? SEGMENT_TEMPLATES;
    this.maxAgeMs = opts.snapshotMaxAgeMs;
  }

  /**
   * Loads every usable segment of this model into `index` (which must be empty), each purpose as a
   * quantised index. A segment whose key is destroyed, whose file is gone or fails to open is dropped
   * (its row, key and file) unless another process is writing a snapshot; files no row names are deleted.
   * Segments of a purpose not in `purposes` (one deleted since) are not loaded but destroyed
   * too, as the rows they hold no longer match.
   */
  async load(index: GalleryIndex, purposes?: ReadonlySet<string>): Promise<SnapshotLoad> {
    const { store, model } = this.deps;
    // Files listed before the rows are read: a segment's row commits before its file is written, so
    // a listed file no row names is one whose write failed or whose row a change deleted.
    const files = this.segmentFiles();
    const all = await segments.all(store.db);
    this.sweepFiles(files, new Set(all.map((r) => r.id)));
    // Another model's segments are that model's processes' to load (an erasure reaches them by their
    // rows). While another process writes a snapshot, its segments may lack their file yet or overlap
    // the generation they replace: what cannot be used is skipped then, not destroyed.
    const rows = all.filter((r) => r.model === model);
    const writing = await opsRepository.leaseHeld(store.db, LEASE, new Date());
    const sizes = new Map<string, number>();
    for (const r of rows) sizes.set(r.purposeId, (sizes.get(r.purposeId) ?? 0) + r.templates);
    const byPurpose = new Map<PurposeId, { q: QuantizedIndex; owners: [TemplateId, SubjectId][] }>();
    const bad: string[] = [];
    const loaded: SegmentRow[] = [];
    // One buffer for the sealed file and one for its plaintext, reused by every segment (fresh memory
    // the size of a segment costs more to fault in than to decrypt), the plaintext zeroed at the end.
    const buffers = { sealed: Buffer.alloc(0), plain: Buffer.alloc(0) };
    try {
      for (const r of rows) {
        if (purposes && !purposes.has(r.purposeId)) {
          bad.push(r.id);
          continue;
        }
        const s = await this.read(r, buffers).catch(() => null);
        const into = s && byPurpose.get(r.purposeId);
        if (!s || (into && !sameCentre(into.q.centre(), s.centre))) {
          bad.push(r.id);
          continue;
        }
        const at = into ?? { q: new QuantizedIndex(s.centre, sizes.get(r.purposeId)), owners: [] };
        byPurpose.set(r.purposeId, at);
        try {
          at.q.loadRows(s.templateIds, s.codes, s.rows, s.scales);
        } catch {
          // A row another segment holds too (two generations after a crash): this one goes.
          bad.push(r.id);
          continue;
        }
        s.templateIds.forEach((t, i) => at.owners.push([t as TemplateId, s.subjectIds[i] as SubjectId]));
        loaded.push(r);
      }
    } finally {
      buffers.plain.fill(0);
    }
    let templates = 0;
    for (const [p, { q, owners }] of byPurpose) {
      index.adopt(p, AdaptiveIndex.holding(q), owners);
      templates += q.size;
    }
    if (!writing) await this.destroy(bad);
    return { segments: loaded.length, templates, dropped: writing ? 0 : bad.length, loaded };
  }

  /** A segment opened and decoded: its arrays are views of `buffers.plain`, valid until the next read. */
  private async read(r: SegmentRow, buffers: { sealed: Buffer; plain: Buffer }): Promise<SegmentRows> {
    const key = await this.deps.keyring.get(this.deps.store.db, segmentOwner(r.id));
    const fd = openSync(join(this.deps.dataDir, segmentPath(r.id)), 'r');
    let size: number;
    try {
      size = fstatSync(fd).size;
      if (buffers.sealed.length < size) {
        buffers.sealed = Buffer.alloc(size);
        buffers.plain.fill(0);
        buffers.plain = Buffer.alloc(size);
      }
      for (let at = 0; at < size;) {
        const n = readSync(fd, buffers.sealed, at, size - at, at);
        if (!n) throw new Error('segment file truncated while read');
        at += n;
      }
    } finally {
      closeSync(fd);
    }
    const plain = openInto(
      key,
      buffers.sealed.subarray(0, size),
      segmentAad(r.id, r.model, r.purposeId),
      buffers.plain,
    );
    const s = decodeSegment(plain);
    if (s.id !== r.id || s.purposeId !== r.purposeId || s.templateIds.length !== r.templates)
      throw new Error('segment does not match its row');
    return s;
  }

  private segmentFiles(): string[] {
    const dir = join(this.deps.dataDir, SEGMENT_DIR);
    return existsSync(dir) ? readdirSync(dir) : [];
  }

  /** Deletes segment files no row names; other files (a write's temporary) once old enough. */
  private sweepFiles(files: readonly string[], named: Set<string>): void {
    const old = Date.now() - ORPHAN_GRACE_MS;
    for (const f of files) {
      const id = f.endsWith('.seg') ? f.slice(0, -4) : null;
      if (id && named.has(id)) continue;
      const p = join(this.deps.dataDir, SEGMENT_DIR, f);
      if (id || (statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0) < old) rmSync(p, { force: true });
    }
  }

  /**
   * At start-up, once the loaded rows were compared with the store: the segments whose range holds
   * anyone who had a row dropped (no longer matchable, or changed) are destroyed, whatever let them
   * outlive the change (a writer or a change stopped half-way), so every restart cleans them.
   */
  async dropHolding(subjectIds: ReadonlySet<string>): Promise<number> {
    if (!subjectIds.size) return 0;
    const hit = (await segments.all(this.deps.store.db)).filter((r) => holds(r, subjectIds)).map((r) => r.id);
    await this.destroy(hit);
    return hit.length;
  }

  /**
   * Writes a fresh snapshot of every quantised purpose of `index`, then destroys the segments it
   * replaces. `since` is the change-feed position the index is known current at (read before its
   * start-up read): anyone changed after it is left out. Each segment's key and row commit before
   * anything is sealed (index-snapshot-writer.ts), so every change finds the segments that could hold
   * its people. One process at a time (a lease); null when another holds it.
   */
  async write(index: GalleryIndex, since: number): Promise<{ segments: number; templates: number } | null> {
    return this.leased(() => this.writeHeld(index, since));
  }

  /** `fn` under the writer's lease (one writer of segments at a time, in every process); null when another holds it. */
  private async leased<T>(fn: () => Promise<T>): Promise<T | null> {
    const { store } = this.deps;
    if (!(await opsRepository.tryLease(store.db, LEASE, this.holder, new Date(), LEASE_MS))) return null;
    try {
      return await fn();
    } finally {
      // Released: a lease that expires now is free for the next writer.
      await opsRepository.tryLease(store.db, LEASE, this.holder, new Date(), 0);
    }
  }

  private writeWith(index: GalleryIndex, since: number, ranges?: readonly SegmentRange[]) {
    const { store, keyring, dataDir, model } = this.deps;
    const deps = { store, keyring, dataDir, model, owner: segmentOwner, path: segmentPath };
    const destroy = (ids: readonly string[]) => this.destroy(ids);
    const pause = () => this.gate.quiet();
    return writeSegments({ ...deps, destroy, pause }, quantised(index), index, since, this.segmentTemplates, ranges);
  }

  private async writeHeld(index: GalleryIndex, since: number): Promise<{ segments: number; templates: number }> {
    const previous = (await segments.all(this.deps.store.db)).filter((r) => r.model === this.deps.model);
    const made = await this.writeWith(index, since);
    // Stopped (the feed was pruned under it): the previous generation stays, it is as current.
    if (!made.stopped) await this.destroy(previous.map((r) => r.id));
    return { segments: made.ids.length, templates: made.templates };
  }

  /**
   * Whether a fresh snapshot is worth writing after a start: enough of the quantised index did not
   * come from the snapshot (`fromSnapshot` rows did: more than a tenth of it or half a segment, so
   * that one erasure's destroyed segment is not decrypted again at every start; any of it when there
   * was none), or the one loaded had to be checked in full (its feed position unknown, pruned, too old).
   */
  stale(index: GalleryIndex, started: { fromSnapshot: number; check: string }): boolean {
    const { fromSnapshot } = started;
    let held = 0;
    for (const [, q] of quantised(index)) held += q.size;
    if (held > 0 && fromSnapshot > 0 && started.check !== 'narrow') return true;
    return held > 0 && held - fromSnapshot > (fromSnapshot ? Math.min(held / 10, this.segmentTemplates / 2) : 0);
  }

  /**
   * In the transaction that changes these people's face data: the segments whose subject range
   * holds any of them lose their keys (marked destroyed, shredded once it commits) and their rows.
   * Returns those rows (their files are deleted, and their ranges written again, after commit).
   */
  async forget(tx: Tx, subjectIds: readonly string[]): Promise<SegmentRow[]> {
    const hit = (await segments.all(tx)).filter((r) => subjectIds.some((s) => r.subjectLo <= s && s <= r.subjectHi));
    const ids = hit.map((r) => r.id);
    const gone = new Set(await segments.delete(tx, ids));
    for (const id of gone) await this.deps.keyring.destroy(tx, segmentOwner(id));
    return hit.filter((r) => gone.has(r.id));
  }

  /**
   * After that transaction commits: looks again (a segment a concurrent writer committed meanwhile;
   * the writer's own check covers the other order), then shreds the keys and deletes the files; the
   * destroyed ranges are written again from the live index in the background (SegmentRewrites).
   */
  async settle(subjectIds: readonly string[], destroyed: readonly SegmentRow[]): Promise<void> {
    const covering = (r: SegmentRow) => subjectIds.some((s) => r.subjectLo <= s && s <= r.subjectHi);
    const again = (await segments.all(this.deps.store.db)).some(covering)
      ? await this.deps.store.transaction((tx) => this.forget(tx, subjectIds))
      : [];
    await this.deps.keyring.shred(this.deps.store);
    for (const r of [...destroyed, ...again]) rmSync(join(this.deps.dataDir, segmentPath(r.id)), { force: true });
    this.rewrites?.schedule([...destroyed, ...again]);
  }

  /** From now on, the segments a change destroys are written again from `index` (SegmentRewrites). */
  rewriteFrom(index: GalleryIndex, position: () => number): SegmentRewrites | undefined {
    if (!this.enabled) return undefined;
    const write = (i: GalleryIndex, since: number, ranges: readonly SegmentRange[]) =>
      this.leased(() => this.writeWith(i, since, ranges));
    const delayMs = this.opts.rewriteDelayMs ?? REWRITE_DELAY_MS;
    const { gate } = this;
    return (this.rewrites = new SegmentRewrites({ index, position, model: this.deps.model, delayMs, write, gate }));
  }

  /** Destroys segments: their keys (shredded at once), rows and files. */
  async destroy(ids: readonly string[]): Promise<void> {
    if (!ids.length) return;
    await this.deps.store.transaction(async (tx) => {
      await segments.delete(tx, ids);
      for (const id of ids) await this.deps.keyring.destroy(tx, segmentOwner(id));
    });
    await this.deps.keyring.shred(this.deps.store);
    for (const id of ids) rmSync(join(this.deps.dataDir, segmentPath(id)), { force: true });
  }
}

function holds(r: SegmentRow, subjectIds: ReadonlySet<string>): boolean {
  for (const s of subjectIds) if (r.subjectLo <= s && s <= r.subjectHi) return true;
  return false;
}

function sameCentre(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

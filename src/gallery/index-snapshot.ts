import { existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Store, Tx } from '../store/store.js';
import { newId, type PurposeId, type SubjectId, type TemplateId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { open, seal } from '../privacy/keys.js';
import { writeSecretFile } from '../privacy/secret-files.js';
import { opsRepository } from '../ops/ops.repository.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { AdaptiveIndex } from '../vector/adaptive-index.js';
import { QuantizedIndex } from '../vector/quantized-index.js';
import { indexChangeRepository as changes } from '../vector/index-change.repository.js';
import { indexSegmentRepository as segments, type SegmentRow } from '../vector/index-segment.repository.js';
import { decodeSegment, encodeSegment, segmentAad, type SegmentRows } from '../vector/segment-codec.js';

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
  private readonly holder = `${process.pid}:${newId.other('w')}`;

  constructor(
    private readonly deps: { store: Store; keyring: KeyRing; dataDir: string; model: string },
    opts: { segmentTemplates?: number } = {},
  ) {
    this.segmentTemplates = opts.segmentTemplates ?? SEGMENT_TEMPLATES;
  }

  /**
   * Loads every usable segment of this model into `index` (which must be empty), each purpose as a
   * quantised index. A segment whose key is destroyed, whose file is gone or fails to open is dropped
   * (its row, key and file); files no row names are deleted once old enough.
   */
  async load(index: GalleryIndex): Promise<SnapshotLoad> {
    const { store, model } = this.deps;
    const rows = await segments.all(store.db);
    const sizes = new Map<string, number>();
    for (const r of rows) sizes.set(r.purposeId, (sizes.get(r.purposeId) ?? 0) + r.templates);
    this.sweepFiles(new Set(rows.map((r) => r.id)));
    const byPurpose = new Map<PurposeId, { q: QuantizedIndex; owners: [TemplateId, SubjectId][] }>();
    const bad: string[] = rows.filter((r) => r.model !== model).map((r) => r.id);
    let loaded = 0;
    for (const r of rows.filter((x) => x.model === model)) {
      const s = await this.read(r).catch(() => null);
      const into = s && byPurpose.get(r.purposeId);
      if (!s || (into && (!sameCentre(into.q.centre(), s.centre) || s.templateIds.some((t) => into.q.has(t))))) {
        s?.plain.fill(0);
        bad.push(r.id);
        continue;
      }
      const at = into ?? { q: new QuantizedIndex(s.centre, sizes.get(r.purposeId)), owners: [] };
      byPurpose.set(r.purposeId, at);
      at.q.loadRows(s.templateIds, s.codes, s.rows, s.scales);
      s.templateIds.forEach((t, i) => at.owners.push([t as TemplateId, s.subjectIds[i] as SubjectId]));
      s.plain.fill(0);
      loaded++;
    }
    let templates = 0;
    for (const [p, { q, owners }] of byPurpose) {
      index.adopt(p, AdaptiveIndex.holding(q), owners);
      templates += q.size;
    }
    await this.destroy(bad);
    return { segments: loaded, templates, dropped: bad.length };
  }

  /** A segment opened and decoded: its arrays are views of `plain`, which the caller zeroes once loaded. */
  private async read(r: SegmentRow): Promise<SegmentRows & { plain: Buffer }> {
    const key = await this.deps.keyring.get(this.deps.store.db, segmentOwner(r.id));
    const sealed = readFileSync(join(this.deps.dataDir, segmentPath(r.id)));
    const plain = open(key, sealed, segmentAad(r.id, r.model, r.purposeId));
    try {
      const s = decodeSegment(plain);
      if (s.id !== r.id || s.purposeId !== r.purposeId || s.templateIds.length !== r.templates)
        throw new Error('segment does not match its row');
      return { ...s, plain };
    } catch (e) {
      plain.fill(0);
      throw e;
    }
  }

  private sweepFiles(named: Set<string>): void {
    const dir = join(this.deps.dataDir, SEGMENT_DIR);
    if (!existsSync(dir)) return;
    const old = Date.now() - ORPHAN_GRACE_MS;
    for (const f of readdirSync(dir)) {
      const id = f.endsWith('.seg') ? f.slice(0, -4) : null;
      if (id && named.has(id)) continue;
      const p = join(dir, f);
      if ((statSync(p, { throwIfNoEntry: false })?.mtimeMs ?? 0) < old) rmSync(p, { force: true });
    }
  }

  /**
   * Writes a fresh snapshot of every quantised purpose of `index`, then destroys the segments it
   * replaces. `since` is the change-feed position the index is known current at (read before its
   * start-up read): segments holding anyone changed after it are destroyed again, which closes the
   * race with a change that looked for segments before these committed. One process at a time (a
   * lease); null when another holds it.
   */
  async write(index: GalleryIndex, since: number): Promise<{ segments: number; templates: number } | null> {
    const { store } = this.deps;
    if (!(await opsRepository.tryLease(store.db, LEASE, this.holder, new Date(), LEASE_MS))) return null;
    try {
      return await this.writeHeld(index, since);
    } finally {
      // Released: a lease that expires now is free for the next writer.
      await opsRepository.tryLease(store.db, LEASE, this.holder, new Date(), 0);
    }
  }

  private async writeHeld(index: GalleryIndex, since: number): Promise<{ segments: number; templates: number }> {
    const { store, keyring, dataDir, model } = this.deps;
    const previous = (await segments.all(store.db)).filter((r) => r.model === model).map((r) => r.id);
    const made: { id: string; subjects: Set<string> }[] = [];
    let templates = 0;
    for (const [purposeId, q] of quantised(index)) {
      const order = q
        .ids()
        .map((t) => [index.ownerOf(t as TemplateId)?.subjectId ?? '', t] as const)
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
      for (let i = 0; i < order.length; i += this.segmentTemplates) {
        // Rows removed since the order was taken are left out; export and encode run without a pause.
        const part = order.slice(i, i + this.segmentTemplates).filter(([s, t]) => s && q.has(t));
        if (!part.length) continue;
        const id = newId.other('seg');
        const templateIds = part.map((p) => p[1]);
        const subjectIds = part.map((p) => p[0]);
        const rows = q.exportRows(templateIds);
        const plain = encodeSegment({ id, model, purposeId, centre: q.centre(), templateIds, subjectIds, ...rows });
        rows.rows.fill(0);
        await store.transaction(async (tx) => {
          const at = new Date().toISOString();
          const key = await keyring.create(tx, segmentOwner(id), at);
          writeSecretFile(join(dataDir, segmentPath(id)), seal(key, plain, segmentAad(id, model, purposeId)));
          await segments.insert(tx, {
            id,
            model,
            purposeId,
            subjectLo: subjectIds[0]!,
            subjectHi: subjectIds[subjectIds.length - 1]!,
            templates: part.length,
            createdAt: at,
          });
        });
        plain.fill(0);
        made.push({ id, subjects: new Set(subjectIds) });
        templates += part.length;
      }
    }
    await this.destroy(previous);
    const touched = await this.changedSince(since);
    const stale = made.filter((m) => [...touched].some((s) => m.subjects.has(s))).map((m) => m.id);
    await this.destroy(stale);
    return { segments: made.length - stale.length, templates };
  }

  private async changedSince(since: number): Promise<Set<string>> {
    const out = new Set<string>();
    for (let at = since; ;) {
      const rows = await changes.after(this.deps.store.db, at, 5000);
      for (const r of rows) out.add(r.subject_id);
      if (rows.length < 5000) return out;
      at = Number(rows[rows.length - 1]!.seq);
    }
  }

  /**
   * Whether enough of the quantised index did not come from the snapshot (`fromSnapshot` rows did)
   * that a fresh one is worth writing: more than a tenth of it, or any of it when there was none.
   */
  stale(index: GalleryIndex, fromSnapshot: number): boolean {
    let held = 0;
    for (const [, q] of quantised(index)) held += q.size;
    return held > 0 && held - fromSnapshot > (fromSnapshot ? held / 10 : 0);
  }

  /**
   * In the transaction that changes these people's face data: the segments whose subject range
   * holds any of them lose their keys (marked destroyed, shredded once it commits) and their rows.
   * Returns the files to delete after commit (relative to the data directory).
   */
  async forget(tx: Tx, subjectIds: readonly string[]): Promise<string[]> {
    const hit = (await segments.all(tx))
      .filter((r) => subjectIds.some((s) => r.subjectLo <= s && s <= r.subjectHi))
      .map((r) => r.id);
    for (const id of await segments.delete(tx, hit)) await this.deps.keyring.destroy(tx, segmentOwner(id));
    return hit.map(segmentPath);
  }

  /**
   * After that transaction commits: looks again (a segment a concurrent writer committed meanwhile;
   * the writer's own check covers the other order), then shreds the keys and deletes the files.
   */
  async settle(subjectIds: readonly string[], files: readonly string[]): Promise<void> {
    const covering = (r: SegmentRow) => subjectIds.some((s) => r.subjectLo <= s && s <= r.subjectHi);
    const again = (await segments.all(this.deps.store.db)).some(covering)
      ? await this.deps.store.transaction((tx) => this.forget(tx, subjectIds))
      : [];
    await this.deps.keyring.shred(this.deps.store);
    for (const f of [...files, ...again]) rmSync(join(this.deps.dataDir, f), { force: true });
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

function* quantised(index: GalleryIndex): Generator<[PurposeId, QuantizedIndex]> {
  for (const p of index.purposes()) {
    const idx = index.indexOf(p);
    const q = idx instanceof AdaptiveIndex ? idx.quantisedIndex : idx instanceof QuantizedIndex ? idx : undefined;
    if (q) yield [p, q];
  }
}

function sameCentre(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, Store } from '../store/store.js';
import { newId, type PurposeId, type TemplateId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { sealInSteps } from '../privacy/keys.js';
import { writeSecretFileAsync } from '../privacy/secret-files.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { QuantizedIndex } from '../vector/quantized-index.js';
import { AdaptiveIndex } from '../vector/adaptive-index.js';
import { indexChangeRepository as changes } from '../vector/index-change.repository.js';
import { indexSegmentRepository as segments } from '../vector/index-segment.repository.js';
import { encodeSegmentInSteps, segmentAad } from '../vector/segment-codec.js';

/** Bytes sealed, and written and synced, per step of a segment; rows exported, and ids ordered, per step. */
const STEP = 1 << 22;
const EXPORT_STEP = 4096;
const ORDER_STEP = 16_384;
const nextTurn = () => new Promise<void>((r) => setImmediate(r));

export interface WriterDeps {
  readonly store: Store;
  readonly keyring: KeyRing;
  readonly dataDir: string;
  readonly model: string;
  readonly owner: (id: string) => string;
  readonly path: (id: string) => string;
  /** Destroys segments: keys (shredded), rows and files. */
  readonly destroy: (ids: readonly string[]) => Promise<void>;
  /** Awaited between steps, outside any transaction: resolves once no change is in flight here (ChangeGate). */
  readonly pause?: () => Promise<void>;
}

/** A subject range of one purpose whose segment a change destroyed: written again from the live index. */
export interface SegmentRange {
  readonly purposeId: PurposeId;
  readonly lo: string;
  readonly hi: string;
}

/** Where the writer is in the change feed, and everyone changed since the index was known current. */
export interface FeedView {
  cursor: number;
  readonly touched: Set<string>;
}

/**
 * Writes one generation of segments from the quantised purposes of `index`, a segment at a time in
 * this order, so that an erasure in any process reaches every segment that could hold the person:
 * 1. in a short transaction holding the change-feed lock (the one every face-data change takes
 *    before its feed record and its `forget`): the feed since `since` is read, people changed since
 *    are left out, and the segment's key and its row (with its subject range) are committed. A change
 *    that committed first is in the feed; one that commits after sees the row and destroys the key.
 * 2. only then, outside any transaction: the rows exported, sealed under that key, the file written
 *    (in steps and asynchronously, so neither this process's changes nor, on SQLite, anyone's
 *    transactions wait for it; between steps `pause` holds the work while a change is in flight).
 * 3. the row looked up again: gone (a change destroyed it meanwhile) means the file goes too.
 * Nothing is sealed under a key whose row has not committed, so a failure or a kill at any point
 * leaves no readable file that no row names. On a failure the segment being written is destroyed.
 * When the feed was pruned past what the writer has read, the changes in between are unknown:
 * every segment this write made is destroyed and the write stops.
 * With `ranges` (segments a change destroyed, written again: SegmentRewrites), only those subject
 * ranges, each sliced on its own; in step 1 people a live segment of the purpose covers are left out,
 * and no segment is written whose range would span a live one's.
 */
export async function writeSegments(
  d: WriterDeps,
  quantised: Iterable<[PurposeId, QuantizedIndex]>,
  index: GalleryIndex,
  since: number,
  perSegment: number,
  ranges?: readonly SegmentRange[],
): Promise<{ ids: string[]; templates: number; stopped?: true }> {
  const feed: FeedView = { cursor: since, touched: new Set() };
  const made: string[] = [];
  let templates = 0;
  let current: string | undefined;
  try {
    for (const [purposeId, q] of quantised)
      for (const within of ranges ? ranges.filter((r) => r.purposeId === purposeId) : [undefined]) {
        const order: (readonly [string, string])[] = [];
        const held = q.ids();
        for (let k = 0; k < held.length; k++) {
          if (k % ORDER_STEP === 0) await d.pause?.();
          const t = held[k]!;
          const s = index.ownerOf(t as TemplateId)?.subjectId ?? '';
          if (!within || (within.lo <= s && s <= within.hi)) order.push([s, t]);
        }
        order.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1));
        for (let i = 0; i < order.length; i += perSegment) {
          const id = newId.other('seg');
          current = id;
          await d.pause?.();
          const named = await d.store.transaction(async (tx) => {
            await d.store.serializeAudit(tx);
            if (!(await readFeed(tx, feed))) return 'pruned' as const;
            // A range rewritten: whoever a live segment of the purpose covers stays out (its rows are there).
            const live = within
              ? (await segments.all(tx)).filter((r) => r.model === d.model && r.purposeId === purposeId)
              : [];
            const part = order
              .slice(i, i + perSegment)
              .filter(
                ([s, t]) =>
                  s && q.has(t) && !feed.touched.has(s) && !live.some((r) => r.subjectLo <= s && s <= r.subjectHi),
              );
            if (!part.length) return null;
            const [lo, hi] = [part[0]![0], part[part.length - 1]![0]];
            // Nor may its range span a live one's: were that one dropped at a start, its people would read as covered.
            if (live.some((r) => r.subjectLo <= hi && lo <= r.subjectHi)) return null;
            const at = new Date().toISOString();
            const key = await d.keyring.create(tx, d.owner(id), at);
            await segments.insert(tx, {
              id,
              model: d.model,
              purposeId,
              subjectLo: lo,
              subjectHi: hi,
              templates: part.length,
              createdAt: at,
              // Its rows are the index as known current at `since` (people changed after it left out).
              feedSeq: since,
            });
            return { part, key };
          });
          if (named === 'pruned') {
            await d.destroy(made);
            return { ids: [], templates: 0, stopped: true };
          }
          if (!named) continue;
          const { part, key } = named;
          const templateIds = part.map((p) => p[1]);
          const subjectIds = part.map((p) => p[0]);
          // Exported a step at a time, each step only if all its rows are still in the index. A row
          // gone means its person changed (the count would lie): the segment goes. One exported and
          // then changed is safe: that change found this segment's row (committed above) and destroys it.
          const take = (from: number, to: number) => {
            const ids = templateIds.slice(from, to);
            return ids.every((t) => q.has(t)) ? q.exportRows(ids) : null;
          };
          const head = { id, model: d.model, purposeId, centre: q.centre(), templateIds, subjectIds };
          const plain = await encodeSegmentInSteps(head, take, EXPORT_STEP, d.pause ?? nextTurn);
          if (!plain) {
            key.fill(0);
            await d.destroy([id]);
            continue;
          }
          try {
            // In steps and asynchronously: a change in this process is not held up by the write.
            const sealed = await sealInSteps(key, plain, segmentAad(id, d.model, purposeId), STEP, d.pause);
            await writeSecretFileAsync(join(d.dataDir, d.path(id)), sealed, STEP, d.pause);
          } finally {
            plain.fill(0);
            key.fill(0);
          }
          if (!(await segments.has(d.store.db, id))) {
            // Destroyed by a change since step 1: its settle may have looked for the file before it existed.
            rmSync(join(d.dataDir, d.path(id)), { force: true });
          } else {
            made.push(id);
            templates += part.length;
          }
          current = undefined;
        }
      }
  } catch (e) {
    if (current) await d.destroy([current]).catch(() => undefined);
    throw e;
  }
  return { ids: made, templates };
}

/**
 * Adds to `feed.touched` everyone changed after `feed.cursor`. False when entries right after the
 * cursor may have been pruned (a follower prunes 10,000 behind its own cursor): the oldest entry
 * left is past cursor + 1 (a sequence gap left by a rolled-back change reads the same: safe side).
 */
export async function readFeed(ex: Executor, feed: FeedView): Promise<boolean> {
  const from = feed.cursor;
  for (;;) {
    const rows = await changes.after(ex, feed.cursor, 5000);
    for (const r of rows) feed.touched.add(r.subject_id);
    if (rows.length) feed.cursor = Number(rows[rows.length - 1]!.seq);
    if (rows.length < 5000) break;
  }
  // Checked after the read: pruning deletes a prefix, so a first entry still at or before from + 1
  // means nothing after `from` had gone when the rows above were read.
  const first = await changes.firstSeq(ex);
  return first === 0 || first <= from + 1;
}

/** A background snapshot write failed: said on stderr (the error's code only: it names no person and no face data). */
export function snapshotFailed(e: unknown): null {
  const code = (e as { code?: unknown } | null)?.code ?? (e as Error | null)?.name ?? 'error';
  process.stderr.write(
    `veil: the index snapshot write failed (${String(code)}); the next start decrypts what it lacks\n`,
  );
  return null;
}

/** The quantised purposes of `index` (those a snapshot holds). */
export function* quantised(index: GalleryIndex): Generator<[PurposeId, QuantizedIndex]> {
  for (const p of index.purposes()) {
    const idx = index.indexOf(p);
    const q = idx instanceof AdaptiveIndex ? idx.quantisedIndex : idx instanceof QuantizedIndex ? idx : undefined;
    if (q) yield [p, q];
  }
}

import type { Store } from '../store/store.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { matchableRepository, type MatchableRef, type SubjectSpan } from '../vector/matchable.repository.js';
import type { SegmentRow } from '../vector/index-segment.repository.js';
import { readFeed } from './index-snapshot-writer.js';

/** Beyond this many feed entries since the snapshot, the full check reads less than the narrow one. */
export const NARROW_MAX_CHANGES = 100_000;
/** A snapshot older than this is checked in full (and written again): a bound on what the feed must vouch for. */
export const NARROW_MAX_AGE_MS = 7 * 24 * 3_600_000;

/** Why start-up checked every template instead of the changed ones (absent: it did not). */
export type FullReason = 'unknown-position' | 'pruned' | 'too-many-changes' | 'too-old';

/** What the loaded snapshot rows are checked into: rows removed, and the rows the index lacks. */
export interface Recheck {
  /** Matchable rows the index lacks: to be read and decrypted. */
  readonly missing: MatchableRef[];
  /** Everyone who had a loaded row dropped (no longer matchable as it was): their segments go. */
  readonly gone: Set<string>;
  /** Loaded rows kept. */
  readonly fromSnapshot: number;
}

/**
 * The people changed since every loaded segment was current, from the change feed (every change to
 * who may match records its person there, in the same transaction); or why that cannot be trusted:
 * a segment without a position, entries after it pruned, too many of them, or a snapshot too old.
 */
export async function changedSince(
  store: Store,
  loaded: readonly SegmentRow[],
  since: number,
  bounds: { maxAgeMs?: number | undefined } = {},
): Promise<{ touched: Set<string> } | { full: FullReason }> {
  if (!loaded.length || loaded.some((r) => r.feedSeq === null)) return { full: 'unknown-position' };
  const from = Math.min(...loaded.map((r) => r.feedSeq!));
  // A position past the feed's end: the feed went back (a restore); nothing it says can be trusted.
  if (from > since) return { full: 'pruned' };
  if (since - from > NARROW_MAX_CHANGES) return { full: 'too-many-changes' };
  const oldest = Math.min(...loaded.map((r) => Date.parse(r.createdAt)));
  if (!(Date.now() - oldest <= (bounds.maxAgeMs ?? NARROW_MAX_AGE_MS))) return { full: 'too-old' };
  const feed = { cursor: from, touched: new Set<string>() };
  if (!(await readFeed(store.db, feed))) return { full: 'pruned' };
  return { touched: feed.touched };
}

/**
 * The narrow check: the loaded rows are current at their segments' feed position, so only the
 * people changed since (`touched`) and the subject ranges no loaded segment covers (a segment
 * destroyed by a change, or dropped at load) can differ from a full read. Their matchable rows are
 * read by the same rules (matchableRepository); a loaded row of a changed person that is not among
 * them leaves the index, and every matchable row the index lacks is returned to be decrypted.
 * Segments of purposes that no longer exist were not loaded (IndexSnapshots.load).
 */
export async function narrowCheck(
  store: Store,
  model: string,
  index: GalleryIndex,
  loaded: readonly SegmentRow[],
  purposes: readonly PurposeId[],
  touched: ReadonlySet<string>,
): Promise<Recheck> {
  const fresh = new Map<string, MatchableRef>();
  const people = [...touched];
  const order =
    store.engine === 'postgres' && (await matchableRepository.byteOrdered(store.db)) ? 'byte-ordered' : store.engine;
  for (const p of purposes) {
    const spans = [...people.map((s) => ({ from: s, to: s })), ...uncovered(loaded.filter((r) => r.purposeId === p))];
    for (const r of await matchableRepository.refsIn(store.db, order, model, p, spans)) fresh.set(r.id, r);
  }
  const gone = new Set<string>();
  for (const s of people)
    for (const t of index.templatesOf(s as SubjectId)) {
      const f = fresh.get(t);
      const o = index.ownerOf(t);
      if (f && o && o.subjectId === f.subjectId && o.purposeId === f.purposeId) continue;
      index.removeTemplate(t);
      gone.add(s);
    }
  const missing: MatchableRef[] = [];
  for (const r of fresh.values()) {
    const o = index.ownerOf(r.id as TemplateId);
    if (o && o.subjectId === r.subjectId && o.purposeId === r.purposeId) continue;
    if (o) gone.add(o.subjectId);
    if (o) index.removeTemplate(r.id);
    missing.push(r);
  }
  return { missing, gone, fromSnapshot: index.size() };
}

/**
 * The subject ranges of one purpose that its loaded segments do not cover, each with its ends (a
 * person whose templates were split between a loaded segment and a lost one is read again; the
 * rows the index holds are skipped), so every subject id falls in a loaded range or a returned one.
 */
export function uncovered(segments: readonly SegmentRow[]): SubjectSpan[] {
  const sorted = [...segments].sort((a, b) => (a.subjectLo < b.subjectLo ? -1 : a.subjectLo > b.subjectLo ? 1 : 0));
  const out: SubjectSpan[] = [];
  let from: string | undefined;
  for (const r of sorted) {
    out.push(from === undefined ? { to: r.subjectLo } : { from, to: r.subjectLo });
    if (from === undefined || r.subjectHi > from) from = r.subjectHi;
  }
  out.push(from === undefined ? {} : { from });
  return out.filter((g) => g.from === undefined || g.to === undefined || g.from <= g.to);
}

/**
 * The full check: which of every template may match now, compared with the loaded rows (the
 * fallback when the change feed cannot vouch for the snapshot).
 */
export async function fullCheck(store: Store, model: string, index: GalleryIndex): Promise<Recheck> {
  const seen = new Set<string>();
  const missing: MatchableRef[] = [];
  // Whoever had a snapshot row that is no longer matchable as it was: their segments go (dropHolding).
  const gone = new Set<string>();
  for (const r of await matchableRepository.allIds(store.db, model)) {
    seen.add(r.id);
    const o = index.ownerOf(r.id);
    if (o && o.subjectId === r.subjectId && o.purposeId === r.purposeId) continue;
    if (o) gone.add(o.subjectId);
    if (o) index.removeTemplate(r.id);
    missing.push(r);
  }
  let fromSnapshot = 0;
  for (const id of index.templateIds()) {
    if (seen.has(id)) fromSnapshot++;
    else {
      gone.add(index.ownerOf(id)!.subjectId);
      index.removeTemplate(id);
    }
  }
  return { missing, gone, fromSnapshot };
}

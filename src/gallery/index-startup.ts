import type { Store } from '../store/store.js';
import type { KeyRing } from '../privacy/keyring.js';
import { GalleryIndex } from '../vector/gallery-index.js';
import { AdaptiveIndex } from '../vector/adaptive-index.js';
import { QuantizedIndex } from '../vector/quantized-index.js';
import type { Settings } from '../config/settings.js';
import { indexChangeRepository as changes } from '../vector/index-change.repository.js';
import { matchableRepository } from '../vector/matchable.repository.js';
import type { TemplateVault } from './template-vault.js';
import { IndexFollower } from '../vector/index-feed.js';
import { IndexSnapshots } from './index-snapshot.js';
import type { SegmentRewrites } from './index-segment-rewrite.js';
import { changedSince, fullCheck, narrowCheck, type FullReason } from './index-recheck.js';

export { snapshotFailed } from './index-snapshot-writer.js';

export interface IndexOptions {
  /** A purpose's index is quantised from this many templates (AdaptiveIndex; QUANTISE_FROM by default). */
  readonly quantiseFrom?: number;
  /** Rows per snapshot segment (SEGMENT_TEMPLATES by default). */
  readonly segmentTemplates?: number;
  /**
   * false: no snapshot is loaded or written (every start decrypts the whole gallery); a change still
   * destroys the segments holding its people that an earlier run with snapshots wrote.
   */
  readonly snapshot?: boolean;
  /** A snapshot older than this is checked in full, not narrowly (NARROW_MAX_AGE_MS by default). */
  readonly snapshotMaxAgeMs?: number;
  /** A segment a change destroyed is written again this long after it (REWRITE_DELAY_MS by default). */
  readonly rewriteDelayMs?: number;
}

/**
 * The live index (exact re-scores read through the vault) and its sealed snapshot. The threads of a
 * search (VEIL_SEARCH_THREADS) are the process's: its one search helper serves every quantised index.
 */
export function liveIndex(
  d: { store: Store; keyring: KeyRing; vault: TemplateVault; dataDir: string; dims: number; settings?: Settings },
  opts: IndexOptions = {},
): { index: GalleryIndex; snapshots: IndexSnapshots } {
  if (d.settings) QuantizedIndex.threads = d.settings.searchThreads;
  const index = new GalleryIndex(d.dims, {
    exact: (ids) => d.vault.vectors(d.store.db, ids),
    makeIndex: (n) => new AdaptiveIndex(n, opts.quantiseFrom),
  });
  // With snapshots off too: a change must still destroy the segments an earlier run left on disk.
  const snapshots = new IndexSnapshots(
    { store: d.store, keyring: d.keyring, dataDir: d.dataDir, model: d.vault.model },
    opts,
  );
  return { index, snapshots };
}

/**
 * Keeps `index` in step with the changes every process commits (IndexFollower, from `since`), and
 * writes again, from it, the snapshot segments a change destroys (SegmentRewrites), at the feed
 * position the follower has applied.
 */
export async function followIndex(d: {
  store: Store;
  vault: TemplateVault;
  index: GalleryIndex;
  snapshots: IndexSnapshots;
  since: number | undefined;
}): Promise<{ follower: IndexFollower; rewrites: SegmentRewrites | undefined }> {
  const { store, vault, index } = d;
  const follower = new IndexFollower({ store, vault, index, pollMs: store.engine === 'postgres' ? 5_000 : 250 });
  await follower.start(d.since);
  return { follower, rewrites: d.snapshots.rewriteFrom(index, () => follower.position) };
}

export interface IndexStart {
  readonly templates: number;
  /** Rows taken from snapshot segments and still matchable. */
  readonly fromSnapshot: number;
  /** Rows read and decrypted from the store. */
  readonly decrypted: number;
  readonly segments: number;
  readonly dropped: number;
  /** The change-feed position read before anything else: the index reflects every change up to it. */
  readonly since: number;
  /** Wall milliseconds: segments opened and loaded, matchable ids read and compared, templates decrypted. */
  readonly ms: { readonly load: number; readonly ids: number; readonly decrypt: number };
  /**
   * How the snapshot was put in step: 'narrow' (only the people changed since, from the change feed,
   * and the ranges no segment covers), 'rebuild' (no snapshot: everything decrypted), or why every
   * template's matchability was read instead (FullReason).
   */
  readonly check: 'narrow' | 'rebuild' | FullReason;
}

/**
 * Builds the live index at start. Without a snapshot: every matchable template read and decrypted
 * (TemplateVault.matchablePages). With one: the segments of existing purposes loaded, then put
 * in step with the store without decrypting what they hold. Narrowly when the change feed vouches
 * for them (index-recheck.ts): only the people it names since the segments' position and the
 * subject ranges no segment covers are read, by the same rules; otherwise in full, the ids of every
 * matchable template (matchableRepository.allIds). Rows no longer matchable (or now of another
 * subject or purpose) leave, with every segment whose range holds their people, and only the
 * templates the segments lack are read and decrypted. The result holds the same templates as a
 * full rebuild.
 */
export async function startIndex(d: {
  store: Store;
  vault: TemplateVault;
  index: GalleryIndex;
  snapshots?: IndexSnapshots | undefined;
}): Promise<IndexStart> {
  const { store, vault, index } = d;
  const since = await changes.lastSeq(store.db);
  index.clear();
  let t = performance.now();
  const lap = () => -t + (t = performance.now());
  const purposes = await matchableRepository.purposes(store.db);
  const load = d.snapshots?.enabled
    ? await d.snapshots.load(index, new Set(purposes))
    : { segments: 0, templates: 0, dropped: 0, loaded: [] };
  if (!load.templates) {
    // A page at a time (decrypted on worker threads when many): the float templates of the whole
    // gallery are never all in memory at once; the quantised tier keeps int8 copies only.
    let n = 0;
    for await (const page of vault.matchablePages(store.db)) {
      for (const t of page) index.add(t);
      n += page.length;
    }
    const ms = { load: lap(), ids: 0, decrypt: 0 };
    const { segments, dropped } = load;
    return { segments, dropped, templates: n, fromSnapshot: 0, decrypted: n, since, ms, check: 'rebuild' };
  }
  const loadMs = lap();
  const changed = await changedSince(store, load.loaded, since, { maxAgeMs: d.snapshots?.maxAgeMs });
  const { missing, gone, fromSnapshot } =
    'touched' in changed
      ? await narrowCheck(store, vault.model, index, load.loaded, purposes, changed.touched)
      : await fullCheck(store, vault.model, index);
  const destroyed = (await d.snapshots?.dropHolding(gone)) ?? 0;
  const idsMs = lap();
  let decrypted = 0;
  for await (const page of vault.decryptPages(store.db, missing)) {
    for (const t of page) index.add(t);
    decrypted += page.length;
  }
  const ms = { load: loadMs, ids: idsMs, decrypt: lap() };
  const check = 'touched' in changed ? ('narrow' as const) : changed.full;
  const dropped = load.dropped + destroyed;
  return { segments: load.segments, dropped, templates: index.size(), fromSnapshot, decrypted, since, ms, check };
}

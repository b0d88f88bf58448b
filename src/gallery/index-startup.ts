import type { Store } from '../store/store.js';
import type { KeyRing } from '../privacy/keyring.js';
import { GalleryIndex } from '../vector/gallery-index.js';
import { AdaptiveIndex } from '../vector/adaptive-index.js';
import { indexChangeRepository as changes } from '../vector/index-change.repository.js';
import { matchableRepository, type MatchableRef } from '../vector/matchable.repository.js';
import type { TemplateVault } from './template-vault.js';
import { IndexSnapshots } from './index-snapshot.js';

export { snapshotFailed } from './index-snapshot-writer.js';

export interface IndexOptions {
  /** A purpose's index is quantised from this many templates (AdaptiveIndex; QUANTISE_FROM by default). */
  readonly quantiseFrom?: number;
  /** Rows per snapshot segment (SEGMENT_TEMPLATES by default). */
  readonly segmentTemplates?: number;
  /** false: no snapshot is loaded or written (every start decrypts the whole gallery). */
  readonly snapshot?: boolean;
}

/** The live index (exact re-scores read through the vault) and its sealed snapshot. */
export function liveIndex(
  d: { store: Store; keyring: KeyRing; vault: TemplateVault; dataDir: string; dims: number },
  opts: IndexOptions = {},
): { index: GalleryIndex; snapshots: IndexSnapshots | undefined } {
  const index = new GalleryIndex(d.dims, {
    exact: (ids) => d.vault.vectors(d.store.db, ids),
    makeIndex: (n) => new AdaptiveIndex(n, opts.quantiseFrom),
  });
  const snapshots =
    opts.snapshot === false
      ? undefined
      : new IndexSnapshots({ store: d.store, keyring: d.keyring, dataDir: d.dataDir, model: d.vault.model }, opts);
  return { index, snapshots };
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
}

/**
 * Builds the live index at start. Without a snapshot: every matchable template read and decrypted
 * (TemplateVault.matchablePages). With one: its segments loaded, then put in step with the store
 * without decrypting what they hold: only the ids of the matchable templates are read (the same
 * rules, matchableRepository.allIds), rows no longer matchable (or now of another subject or
 * purpose) leave, with every segment whose range holds their people, and only the templates the
 * segments lack are read and decrypted. The result holds the same templates as a full
 * rebuild.
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
  const load = d.snapshots ? await d.snapshots.load(index) : { segments: 0, templates: 0, dropped: 0 };
  if (!load.templates) {
    // A page at a time (decrypted on worker threads when many): the float templates of the whole
    // gallery are never all in memory at once; the quantised tier keeps int8 copies only.
    let n = 0;
    for await (const page of vault.matchablePages(store.db)) {
      for (const t of page) index.add(t);
      n += page.length;
    }
    return { ...load, templates: n, fromSnapshot: 0, decrypted: n, since, ms: { load: lap(), ids: 0, decrypt: 0 } };
  }
  const loadMs = lap();
  const seen = new Set<string>();
  const missing: MatchableRef[] = [];
  // Whoever had a snapshot row that is no longer matchable as it was: their segments go (dropHolding).
  const gone = new Set<string>();
  for (const r of await matchableRepository.allIds(store.db, vault.model)) {
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
  const destroyed = (await d.snapshots?.dropHolding(gone)) ?? 0;
  const idsMs = lap();
  let decrypted = 0;
  for await (const page of vault.decryptPages(store.db, missing)) {
    for (const t of page) index.add(t);
    decrypted += page.length;
  }
  const ms = { load: loadMs, ids: idsMs, decrypt: lap() };
  return { ...load, dropped: load.dropped + destroyed, templates: index.size(), fromSnapshot, decrypted, since, ms };
}

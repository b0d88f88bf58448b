import type { Store, Tx } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { GalleryIndex } from './gallery-index.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import { indexChangeRepository as changes } from './index-change.repository.js';

/**
 * The index change feed: every transaction that changes who may match records the subject here,
 * and every process re-reads that subject's matchable templates from the store. One event kind
 * ("look again at this subject") keeps replicas idempotent and order-insensitive.
 */
export async function touchIndex(store: Store, tx: Tx, subjectId: SubjectId, at: string): Promise<void> {
  // Taking the audit lock (held to commit) before drawing a seq makes commit order equal seq
  // order, so a follower that has read seq n can never later see a smaller seq commit.
  await store.serializeAudit(tx);
  await changes.insert(tx, subjectId, at);
  await store.notifyIndexChange(tx);
}

/**
 * A subject's matchable templates read again into `index` by the process that changed them (outside
 * the follower: a lifted restriction, a replaced template, a failed change put back). A change that
 * commits while the read is in flight may be applied by the follower before the rows read reach the
 * index, and the follower, past its entry, would never take them out again (nor would a snapshot
 * segment written at its position leave them out): so the read is repeated until no entry for the
 * subject committed after the feed position read before it. One committing later is applied after.
 */
export async function reloadSubject(
  d: { store: Store; vault: TemplateVault; index: GalleryIndex },
  subjectId: SubjectId,
): Promise<void> {
  for (;;) {
    const from = await changes.lastSeq(d.store.db);
    d.index.removeSubject(subjectId);
    const fresh = await d.vault.matchable(d.store.db, { subjectId });
    d.index.removeSubject(subjectId);
    for (const t of fresh) d.index.add(t);
    if (!(await changes.touchedAfter(d.store.db, from, subjectId))) return;
  }
}

const PRUNE_BEHIND = 10_000;

/** Keeps this process's index in step with changes committed by any process. */
export class IndexFollower {
  private cursor = 0;
  private running: Promise<void> | null = null;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  applied = 0;

  /** The feed position this index is current at: every change up to it has been applied. */
  get position(): number {
    return this.cursor;
  }

  constructor(private readonly deps: { store: Store; vault: TemplateVault; index: GalleryIndex; pollMs: number }) {}

  /**
   * `since`: the feed position the index is known current at (read before its start-up read), so the
   * changes committed while it was built are applied too (twice is harmless); the feed's end if absent.
   */
  async start(since?: number): Promise<void> {
    this.cursor = since ?? (await changes.lastSeq(this.deps.store.db));
    this.unlisten = await this.deps.store.listenIndexChanges(() => void this.catchUp());
    // The poll catches up after a missed notification (and is the only wake-up on SQLite).
    this.timer = setInterval(() => void this.catchUp(), this.deps.pollMs);
    this.timer.unref();
  }

  /** Applies every change after the cursor; concurrent calls coalesce into one more pass. */
  catchUp(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      do {
        this.again = false;
        const rows = await changes.after(this.deps.store.db, this.cursor, 5000);
        if (rows.length && Number(rows[0]!.seq) > this.cursor + 1 && this.cursor > 0 && (await this.pruned())) {
          // Changes we never saw were pruned: the only safe answer is a full rebuild from the store.
          const all = await this.deps.vault.matchable(this.deps.store.db);
          this.deps.index.clear();
          for (const t of all) this.deps.index.add(t);
        }
        for (const s of new Set(rows.map((r) => r.subject_id as SubjectId))) {
          const fresh = await this.deps.vault.matchable(this.deps.store.db, { subjectId: s });
          this.deps.index.removeSubject(s);
          for (const t of fresh) this.deps.index.add(t);
          this.applied++;
        }
        if (rows.length) this.cursor = Number(rows[rows.length - 1]!.seq);
      } while (this.again);
      // The feed only has to outlive the slowest follower's catch-up; one far behind rebuilds instead.
      if (this.cursor > PRUNE_BEHIND) await changes.pruneUpTo(this.deps.store.db, this.cursor - PRUNE_BEHIND);
    })()
      .catch(() => undefined)
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /** Whether rows right after the cursor are gone (pruned) rather than not yet committed. */
  private async pruned(): Promise<boolean> {
    return (await changes.firstSeq(this.deps.store.db)) > this.cursor + 1;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.unlisten?.();
    await this.running;
  }
}

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
 * the follower: a new enrollment, a lifted restriction, a replaced template, a failed change put back).
 * A change that commits while the read is in flight may be applied by the follower before the rows
 * read reach the index, and the follower, past its entry, would never take them out again (nor would
 * a snapshot segment written at its position leave them out): so the read is repeated until no entry
 * for the subject committed after the feed position read before it. A local change in flight (held
 * by the fence) may not have committed yet: the read is not applied; that change reads the person
 * again if it fails, and the follower does once it commits.
 */
export async function reloadSubject(
  d: { store: Store; vault: TemplateVault; index: GalleryIndex },
  subjectId: SubjectId,
): Promise<void> {
  const { fence } = d.index;
  await fence.reading(async () => {
    for (;;) {
      const from = await changes.lastSeq(d.store.db);
      const mark = fence.mark();
      const fresh = await d.vault.matchable(d.store.db, { subjectId });
      if (fence.holds(subjectId)) return;
      // A local change settled during the read: it may be newer than the read.
      if (!fence.current(subjectId, mark)) continue;
      d.index.removeSubject(subjectId);
      for (const t of fresh) d.index.add(t);
      if (!(await changes.touchedAfter(d.store.db, from, subjectId))) return;
    }
  });
}

const PRUNE_BEHIND = 10_000;

/** Keeps this process's index in step with changes committed by any process. */
export class IndexFollower {
  private cursor = 0;
  private running: Promise<void> | null = null;
  private again = false;
  /**
   * Subjects whose last read was overtaken by a local change, read again on the next pass, with the
   * first feed position that read stood for (the index is not current there until they are read).
   */
  private readonly retry = new Map<SubjectId, number>();
  private timer: NodeJS.Timeout | null = null;
  private unlisten: (() => Promise<void>) | null = null;
  applied = 0;

  /** The feed position this index is current at: every change up to it has been applied. */
  get position(): number {
    let at = this.cursor;
    for (const seq of this.retry.values()) at = Math.min(at, seq - 1);
    return at;
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
    const { store, vault, index } = this.deps;
    this.running = index.fence
      .reading(async () => {
        do {
          this.again = false;
          const rows = await changes.after(store.db, this.cursor, 5000);
          if (rows.length && Number(rows[0]!.seq) > this.cursor + 1 && this.cursor > 0 && (await this.pruned())) {
            // Changes we never saw were pruned: the only safe answer is a full rebuild from the store.
            const mark = index.fence.mark();
            for (const s of index.replaceAll(await vault.matchable(store.db), mark))
              this.retry.set(s, Math.min(this.retry.get(s) ?? Infinity, this.cursor + 1));
          }
          // Those waiting stay in `retry` until applied: a pass that fails must not lose them.
          const subjects = new Map(this.retry);
          for (const r of rows)
            if (!subjects.has(r.subject_id as SubjectId)) subjects.set(r.subject_id as SubjectId, Number(r.seq));
          for (const [s, seq] of subjects) {
            const mark = index.fence.mark();
            const fresh = await vault.matchable(store.db, { subjectId: s });
            // A local change since the mark: this read may be older than it; read again next pass.
            if (index.replaceSubject(s, fresh, mark)) {
              this.applied++;
              this.retry.delete(s);
            } else this.retry.set(s, Math.min(this.retry.get(s) ?? Infinity, seq));
          }
          if (rows.length) this.cursor = Number(rows[rows.length - 1]!.seq);
        } while (this.again);
        // The feed only has to outlive the slowest follower's catch-up; one far behind rebuilds instead.
        if (this.position > PRUNE_BEHIND) await changes.pruneUpTo(store.db, this.position - PRUNE_BEHIND);
      })
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

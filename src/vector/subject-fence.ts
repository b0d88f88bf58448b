import type { SubjectId } from '../ids.js';

/**
 * Orders this process's own index changes against the change follower's reads of the store.
 *
 * The follower applies "the subject's matchable rows, as read now". A read that began before a
 * local change committed, or while one was in flight (the lifecycle drops the subject from the
 * index before its transaction), carries the old rows: applied after the change, it would put a
 * withdrawn or restricted person back in the index until the follower's next pass. So a follower
 * read is applied only if no local change touched that subject since the read began and none is in
 * flight; otherwise it is read again later.
 */
export class SubjectFence {
  private clock = 0;
  private readers = 0;
  /** The clock at a subject's last local touch, remembered only while a read is in flight. */
  private readonly touched = new Map<SubjectId, number>();
  /** Subjects with a local change in flight (a count: two changes may overlap). */
  private readonly held = new Map<SubjectId, number>();

  /** A local change touched the subject in the index. */
  touch(subjectId: SubjectId): void {
    // With no read in flight, no mark can be older than this touch: nothing to remember.
    if (this.readers) this.touched.set(subjectId, ++this.clock);
  }

  /** A local change to these subjects is in flight until the returned release is called. */
  hold(subjectIds: readonly SubjectId[]): () => void {
    for (const s of subjectIds) {
      this.held.set(s, (this.held.get(s) ?? 0) + 1);
      this.touch(s);
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      for (const s of subjectIds) {
        const n = (this.held.get(s) ?? 1) - 1;
        if (n) this.held.set(s, n);
        else this.held.delete(s);
        this.touch(s);
      }
    };
  }

  /** Runs a reader: marks taken inside it can be checked with `current`. */
  async reading<T>(fn: () => Promise<T>): Promise<T> {
    this.readers++;
    try {
      return await fn();
    } finally {
      if (--this.readers === 0) this.touched.clear();
    }
  }

  /** The mark a read takes before it reads the store. */
  mark(): number {
    return this.clock;
  }

  /** The subjects a read begun at `mark` must not stand for. */
  changedSince(mark: number): SubjectId[] {
    const out = new Set(this.held.keys());
    for (const [s, at] of this.touched) if (at > mark) out.add(s);
    return [...out];
  }

  /** Whether a local change to the subject is in flight. */
  holds(subjectId: SubjectId): boolean {
    return this.held.has(subjectId);
  }

  /** Whether a read of the subject begun at `mark` may be applied. */
  current(subjectId: SubjectId, mark: number): boolean {
    return !this.held.has(subjectId) && (this.touched.get(subjectId) ?? 0) <= mark;
  }
}

/** Quiet means no change for this long (the changes of a burst come a few milliseconds apart). */
export const QUIET_IDLE_MS = 100;
/** The longest a background step waits for changes to finish before it goes ahead anyway. */
export const QUIET_WAIT_MS = 2_000;

const nextTurn = () => new Promise<void>((r) => setImmediate(r));

/**
 * Face-data changes in flight in this process (FaceDataLifecycle enters it around each one), so
 * that background snapshot work (segment writes and rewrites) takes its next step only when none is
 * and none was for `idleMs`: an erasure then does not share the event loop and the disk's syncs with
 * the ordering, copying, sealing and writing of a 38 MB segment. A step already going finishes; the
 * work waits between steps, never inside a transaction, and never longer than `maxWaitMs` at a time
 * (a steady stream of changes slows the background work down but does not stop it).
 */
export class ChangeGate {
  private active = 0;
  private lastLeft = -Infinity;
  private waiting: (() => void)[] = [];
  /** How often background work waited for changes, and for how long in all (the bench reads these). */
  readonly waits = { count: 0, ms: 0 };

  constructor(
    private readonly idleMs = QUIET_IDLE_MS,
    private readonly maxWaitMs = QUIET_WAIT_MS,
  ) {}

  /** A change begins; the function returned ends it (calling it again does nothing). */
  enter(): () => void {
    this.active++;
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      if (--this.active) return;
      this.lastLeft = performance.now();
      if (this.waiting.length) this.wake();
    };
  }

  /** Whether a change is in flight. */
  get busy(): boolean {
    return this.active > 0;
  }

  /** `fn` as a change: background steps wait while it runs. */
  async during<T>(fn: () => Promise<T>): Promise<T> {
    const leave = this.enter();
    try {
      return await fn();
    } finally {
      leave();
    }
  }

  /** Resolves once the gate is quiet (after a turn of the event loop when it is already), or after `maxWaitMs`. */
  quiet(): Promise<void> {
    if (this.isQuiet()) return nextTurn();
    const t0 = performance.now();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiting = this.waiting.filter((f) => f !== done);
        this.waits.count++;
        this.waits.ms += performance.now() - t0;
        resolve();
      };
      // Not unref'd: the background work waiting here is what keeps the process going (flush, stop).
      const timer = setTimeout(done, this.maxWaitMs);
      this.waiting.push(done);
      if (!this.active) this.wake();
    });
  }

  private isQuiet(): boolean {
    return !this.active && performance.now() - this.lastLeft >= this.idleMs;
  }

  /** Releases the waiting once the gate has been quiet for `idleMs` (a change in flight: its end calls this again). */
  private wake(): void {
    if (this.active || !this.waiting.length) return;
    const left = this.idleMs - (performance.now() - this.lastLeft);
    if (left > 0) setTimeout(() => this.wake(), Math.ceil(left));
    else for (const f of [...this.waiting]) f();
  }
}

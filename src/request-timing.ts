import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Wall time per stage of one request, for the `Server-Timing` response header (VEIL_SERVER_TIMING):
 * where an identify's tail goes (queue wait for an engine worker, the worker's stages, the search,
 * the store writes, serialisation). Only stage names and milliseconds: never an image, an embedding, a
 * score or an identifier.
 *
 * Off (the default) it costs nothing: no request ever enters the store, so `current()` is undefined
 * and every `lap`/`timed` is a property read and a branch (AsyncLocalStorage installs its hooks only
 * once a store is entered).
 */
export class RequestTiming {
  /** Stages in the order first timed; a stage timed twice (two faces) adds up. */
  readonly ms = new Map<string, number>();
  readonly started = performance.now();
  private mark = this.started;

  add(stage: string, ms: number): void {
    this.ms.set(stage, (this.ms.get(stage) ?? 0) + ms);
  }

  /** Adds the time since the last `lap` (or `restart`, or the start) to `stage`. */
  lap(stage: string): void {
    const now = performance.now();
    this.add(stage, now - this.mark);
    this.mark = now;
  }

  /** Marks now as the start of the next `lap`. */
  restart(): void {
    this.mark = performance.now();
  }

  /** `name;dur=1.23, ...` plus `total` (from `started` to now) and `other` (total minus the stages). */
  header(now = performance.now()): string {
    const total = now - this.started;
    let sum = 0;
    const parts: string[] = [];
    for (const [k, v] of this.ms) {
      sum += v;
      parts.push(`${k};dur=${v.toFixed(2)}`);
    }
    parts.push(`other;dur=${Math.max(0, total - sum).toFixed(2)}`, `total;dur=${total.toFixed(2)}`);
    return parts.join(', ');
  }
}

const store = new AsyncLocalStorage<RequestTiming>();

/** The timing of the request this code runs for, if timing is on. */
export function currentTiming(): RequestTiming | undefined {
  return store.getStore();
}

/** Runs `f` with `t` as the current request's timing. */
export function withTiming<T>(t: RequestTiming, f: () => T): T {
  return store.run(t, f);
}

/** Awaits `f`, adding its wall time to `stage` of the current request (if timed). */
export async function timed<T>(stage: string, f: () => Promise<T>): Promise<T> {
  const t = store.getStore();
  if (!t) return f();
  const s = performance.now();
  try {
    return await f();
  } finally {
    t.add(stage, performance.now() - s);
  }
}

/** Parses a `Server-Timing` header into stage -> ms (the bench's reader; unknown entries are skipped). */
export function parseServerTiming(h: string | null | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const part of (h ?? '').split(',')) {
    const m = /^\s*([\w-]+)\s*;\s*dur=([\d.]+)\s*$/.exec(part);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

import type { FaceAnalyzer, ImageOptions } from '../src/face/analyzer.js';

/**
 * Any engine (the real one or the fake), its analyses made to wait at a gate the test opens: a
 * re-embedding run held midway at a known template, without timing. Detection passes straight on.
 */
export class GatedEngine implements FaceAnalyzer {
  readonly modelId: string;
  /** Analyses asked for so far. */
  calls = 0;
  private open = false;
  private readonly waiting: (() => void)[] = [];
  private readonly watchers: { n: number; resolve: () => void }[] = [];

  constructor(private readonly inner: FaceAnalyzer) {
    this.modelId = inner.modelId;
  }

  async analyze(bytes: Uint8Array, opts?: ImageOptions) {
    this.calls++;
    for (const w of this.watchers.filter((x) => this.calls >= x.n)) w.resolve();
    if (!this.open) await new Promise<void>((r) => this.waiting.push(r));
    return this.inner.analyze(bytes, opts);
  }

  detect(bytes: Uint8Array, opts?: ImageOptions) {
    return this.inner.detect(bytes, opts);
  }

  /** Settles once the engine has been asked for `n` analyses (the n-th waits at the gate if shut). */
  reached(n: number): Promise<void> {
    if (this.calls >= n) return Promise.resolve();
    return new Promise((resolve) => this.watchers.push({ n, resolve }));
  }

  /** Shuts the gate again: later analyses wait until the next release. */
  shut(): void {
    this.open = false;
  }

  /** Opens the gate: the waiting analyses and every later one go on. */
  release(): void {
    this.open = true;
    this.waiting.splice(0).forEach((r) => r());
  }
}

import type { FaceAnalyzer, ImageOptions } from './analyzer.js';
import { FaceEngine, type FaceEngineOptions } from './engine.js';
import { MODELS } from './models.js';

/**
 * The in-process engine, loaded on the first photo: commands that never look at a face (audit,
 * rights queue, keys) do not pay for loading three models.
 */
export class LazyEngine implements FaceAnalyzer {
  readonly modelId: string;
  private engine: Promise<FaceEngine> | null = null;

  constructor(private readonly opts: Partial<FaceEngineOptions> = {}) {
    this.modelId = opts.embedder?.id ?? MODELS.embedder.id;
  }

  private get(): Promise<FaceEngine> {
    return (this.engine ??= FaceEngine.create(this.opts));
  }

  async analyze(bytes: Uint8Array, opts?: ImageOptions) {
    return (await this.get()).analyze(bytes, opts);
  }

  async detect(bytes: Uint8Array, opts?: ImageOptions) {
    return (await this.get()).detect(bytes, opts);
  }
}

import type { FaceAnalyzer, ImageOptions } from './analyzer.js';
import { FaceEngine } from './engine.js';
import { MODELS } from './models.js';

/**
 * The in-process engine, loaded on the first photo: commands that never look at a face (audit,
 * rights queue, keys) do not pay for loading three models.
 */
export class LazyEngine implements FaceAnalyzer {
  readonly modelId = MODELS.embedder.id;
  private engine: Promise<FaceEngine> | null = null;

  private get(): Promise<FaceEngine> {
    return (this.engine ??= FaceEngine.create());
  }

  async analyze(bytes: Uint8Array, opts?: ImageOptions) {
    return (await this.get()).analyze(bytes, opts);
  }

  async detect(bytes: Uint8Array, opts?: ImageOptions) {
    return (await this.get()).detect(bytes, opts);
  }
}

import type { Analysis, EmbeddedFace } from './engine.js';

/** What services need from the engine; FaceEngine (in-process) and EnginePool (worker threads) both fit. */
export interface FaceAnalyzer {
  readonly modelId: string;
  analyze(bytes: Uint8Array): Promise<Analysis<EmbeddedFace>>;
}

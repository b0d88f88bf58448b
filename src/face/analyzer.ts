import type { Analysis, DetectedFace, EmbeddedFace } from './engine.js';

/** Per-call limits on what an image may be (public routes accept fewer formats than operators). */
export interface ImageOptions {
  readonly formats?: readonly string[];
  /** Also judge each face's liveness (identity-proof selfies); see src/face/liveness.ts. */
  readonly liveness?: boolean;
}

/** What services need from the engine; FaceEngine (in-process) and EnginePool (worker threads) both fit. */
export interface FaceAnalyzer {
  readonly modelId: string;
  analyze(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<EmbeddedFace>>;
  detect(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<DetectedFace>>;
}

import { DEFAULT_DECODE_OPTIONS, decode, warmUpJpeg, type DecodeOptions, type DecodedImage } from './image.js';
import { narrowFormats } from './image-format.js';
import { DEFAULT_MODELS_DIR, MODELS, loadSession } from './models.js';
import { DEFAULT_DETECTOR_OPTIONS, UltraFaceDetector, type DetectorOptions } from './detector.js';
import { Landmarker, toFivePoints, type FivePoints } from './landmarks.js';
import { Embedder, align, type AlignedFace } from './embedder.js';
import { faceQuality, type FaceQuality } from './quality.js';
import type { Box, Point } from './geometry.js';
import { LIVENESS_MODEL, LivenessModel, type LivenessVerdict } from './liveness.js';
import { DeclaredEmbedder } from './declared-embedder.js';
import { modelSpec, type EmbedderDeclaration } from './model-declaration.js';
import { TINY_WEIGHT } from './tiny-weights.js';

export interface FaceEngineOptions {
  readonly modelsDir: string;
  readonly intraOpThreads: number;
  readonly decode: DecodeOptions;
  readonly detector: DetectorOptions;
  /**
   * Also scan overlapping tiles for small faces. Measured on the shared group photos: the full frame
   * alone found every face, and tiles added false positives (hands, decorations), so 'never' is the default.
   */
  readonly tiles: 'auto' | 'always' | 'never';
  /**
   * Landmark passes per face: 2 reads the face again through the first pass's alignment (issue 14:
   * +0.42 points on lfw-dev); 1 is the pipeline before it, kept so the bench can price the second pass.
   */
  readonly landmarkPasses: 1 | 2;
  /** An embedder declared by the operator (VEIL_MODELS) instead of the shipped one. */
  readonly embedder?: EmbedderDeclaration;
  /**
   * Passes of a synthetic photo through every stage before create() resolves (0: none). The first
   * calls of a fresh engine cost 2-5x a steady one (ONNX Runtime's first runs, libvips' and V8's first
   * calls): a server's workers warm up (engine.warmUp, default 8) so that its first requests do not pay
   * for it (issue 17 item 5); a one-shot command would only pay twice, so the engine's default is 0.
   */
  readonly warmUp: number;
  /**
   * Zero the shipped models' weights below 1e-15 as they load (src/face/tiny-weights.ts): the same
   * outputs, and the embedder's CPU from 56 to 8 ms a face on this project's machine (issue 17 item 5).
   * false: the weights as shipped, kept so the bench can price it and tests can show nothing moves.
   */
  readonly flushTinyWeights: boolean;
}

export const DEFAULT_ENGINE_OPTIONS: FaceEngineOptions = {
  modelsDir: DEFAULT_MODELS_DIR,
  intraOpThreads: 1,
  decode: DEFAULT_DECODE_OPTIONS,
  detector: DEFAULT_DETECTOR_OPTIONS,
  tiles: 'never',
  landmarkPasses: 2,
  warmUp: 0,
  flushTinyWeights: true,
};

/** Working-image long side from which 'auto' tiling kicks in. */
const AUTO_TILE_SIDE = 900;

export interface DetectedFace {
  /** Box and points in the original (EXIF-oriented) photo's pixel coordinates. */
  readonly box: Box;
  readonly score: number;
  readonly landmarks: FivePoints;
  readonly quality: FaceQuality;
  /** Only when the call asked for it (identity-proof selfies): see src/face/liveness.ts. */
  readonly liveness?: LivenessVerdict;
}

export interface EmbeddedFace extends DetectedFace {
  readonly embedding: Float32Array;
  readonly model: string;
}

export interface Analysis<F extends DetectedFace> {
  readonly width: number;
  readonly height: number;
  readonly faces: readonly F[];
}

/** Per-call limits on the input: a caller can only narrow what the engine was configured to accept. */
export interface ImageCallOptions {
  /**
   * Formats this call accepts, e.g. `PUBLIC_IMAGE_FORMATS` (JPEG, PNG, WebP) on public routes; default:
   * the engine's. Names as in `IMAGE_FORMATS` (case-insensitive, `jpg`/`tif` too), checked at run time
   * since they often come from configuration: an unknown name throws.
   */
  readonly formats?: readonly string[];
  /** Also run the presentation-attack model on every face (identity-proof selfies). */
  readonly liveness?: boolean;
}

export interface StageTimings {
  decode: number;
  detect: number;
  align: number;
  embed: number;
}

/**
 * The face engine: one instance per process (or worker thread) holds the loaded models; every call
 * reuses them. detect -> 68 landmarks -> five points -> similarity warp to 112x112 -> 512-d embedding.
 */
export class FaceEngine {
  readonly modelId: string;
  readonly detectorId = MODELS.detector.id;
  readonly dimensions: number;

  private constructor(
    private readonly opts: FaceEngineOptions,
    private readonly detector: UltraFaceDetector,
    private readonly landmarker: Landmarker,
    private readonly embedder: Embedder | DeclaredEmbedder,
  ) {
    this.modelId = embedder instanceof DeclaredEmbedder ? embedder.id : MODELS.embedder.id;
    this.dimensions = embedder.dimensions;
  }

  private live: Promise<LivenessModel> | null = null;

  /** Loaded on the first call that asks for liveness: most calls never do. */
  private livenessModel(): Promise<LivenessModel> {
    const so = { intraOpThreads: this.opts.intraOpThreads };
    return (this.live ??= loadSession(this.opts.modelsDir, LIVENESS_MODEL, so).then(
      (s) => new LivenessModel(s),
      (e: unknown) => {
        this.live = null;
        throw e;
      },
    ));
  }

  static async create(partial: Partial<FaceEngineOptions> = {}): Promise<FaceEngine> {
    const opts = { ...DEFAULT_ENGINE_OPTIONS, ...partial };
    const so = { intraOpThreads: opts.intraOpThreads };
    // Only the shipped models: an operator's declared embedder is loaded as given (not measured here).
    const shipped = { ...so, flushWeightsBelow: opts.flushTinyWeights ? TINY_WEIGHT : 0 };
    const [d, l, e] = await Promise.all([
      loadSession(opts.modelsDir, MODELS.detector, shipped),
      loadSession(opts.modelsDir, MODELS.landmarks, shipped),
      opts.embedder
        ? loadSession(modelSpec(opts.embedder, opts.modelsDir).dir, modelSpec(opts.embedder, opts.modelsDir).spec, so)
        : loadSession(opts.modelsDir, MODELS.embedder, shipped),
    ]);
    const embedder = opts.embedder ? new DeclaredEmbedder(e, opts.embedder) : new Embedder(e);
    const engine = new FaceEngine(opts, new UltraFaceDetector(d, opts.detector), new Landmarker(l), embedder);
    if (opts.warmUp > 0) await engine.warm(opts.warmUp);
    return engine;
  }

  /** Every stage a one-face photo goes through, on a synthetic frame with a fixed face box (see warmUp). */
  private async warm(passes: number): Promise<void> {
    const bytes = await warmUpJpeg();
    const box = { x: 240, y: 150, width: 160, height: 200 };
    for (let i = 0; i < passes; i++) {
      const img = await this.decode(bytes);
      await this.detector.detect(img, { tiles: false });
      const pts = toFivePoints(await this.landmarker.landmarks68(img, box, this.opts.landmarkPasses));
      const aligned = align(img, pts);
      faceQuality(box, pts, 1, aligned.pixels, img.scale);
      await this.embed(img, pts, aligned);
    }
  }

  /** A declared embedder warps the face itself from the five points; the shipped one takes the aligned crop. */
  private embed(img: DecodedImage, pts: FivePoints, aligned: AlignedFace): Promise<Float32Array> {
    return this.embedder instanceof DeclaredEmbedder ? this.embedder.embed(img, pts) : this.embedder.embed(aligned);
  }

  decode(bytes: Uint8Array, call?: ImageCallOptions): Promise<DecodedImage> {
    return decode(bytes, { ...this.opts.decode, formats: narrowFormats(this.opts.decode.formats, call?.formats) });
  }

  detect(bytes: Uint8Array, call?: ImageCallOptions, timings?: StageTimings): Promise<Analysis<DetectedFace>>;
  /** The older form, timings second (the stage benchmark uses it). */
  detect(bytes: Uint8Array, timings: StageTimings): Promise<Analysis<DetectedFace>>;
  async detect(
    bytes: Uint8Array,
    a?: ImageCallOptions | StageTimings,
    b?: StageTimings,
  ): Promise<Analysis<DetectedFace>> {
    const [call, timings] = callAndTimings(a, b);
    return this.run(bytes, false, call, timings);
  }

  analyze(bytes: Uint8Array, call?: ImageCallOptions, timings?: StageTimings): Promise<Analysis<EmbeddedFace>>;
  /** The older form, timings second (the stage benchmark uses it). */
  analyze(bytes: Uint8Array, timings: StageTimings): Promise<Analysis<EmbeddedFace>>;
  async analyze(
    bytes: Uint8Array,
    a?: ImageCallOptions | StageTimings,
    b?: StageTimings,
  ): Promise<Analysis<EmbeddedFace>> {
    const [call, timings] = callAndTimings(a, b);
    return (await this.run(bytes, true, call, timings)) as Analysis<EmbeddedFace>;
  }

  private async run(
    bytes: Uint8Array,
    withEmbedding: boolean,
    call: ImageCallOptions | undefined,
    t?: StageTimings,
  ): Promise<Analysis<DetectedFace | EmbeddedFace>> {
    let t0 = performance.now();
    const img = await this.decode(bytes, call);
    let t1 = performance.now();
    if (t) t.decode += t1 - t0;
    const tiles =
      this.opts.tiles === 'always' || (this.opts.tiles === 'auto' && Math.max(img.width, img.height) >= AUTO_TILE_SIDE);
    let dets = await this.detector.detect(img, { tiles });
    if (dets.length === 0) dets = await this.detector.detectHarder(img);
    t0 = performance.now();
    if (t) t.detect += t0 - t1;
    const faces: (DetectedFace | EmbeddedFace)[] = [];
    for (const d of dets) {
      t1 = performance.now();
      const pts = toFivePoints(await this.landmarker.landmarks68(img, d.box, this.opts.landmarkPasses));
      const aligned = align(img, pts);
      const quality = faceQuality(d.box, pts, d.score, aligned.pixels, img.scale);
      t0 = performance.now();
      if (t) t.align += t0 - t1;
      const face: DetectedFace = {
        box: scaleBox(d.box, img.scale),
        score: d.score,
        landmarks: scalePoints(pts, img.scale),
        quality,
        ...(call?.liveness ? { liveness: await (await this.livenessModel()).check(img, d.box) } : {}),
      };
      if (withEmbedding) {
        const embedding = await this.embed(img, pts, aligned);
        if (t) t.embed += performance.now() - t0;
        faces.push({ ...face, embedding, model: this.modelId });
      } else faces.push(face);
    }
    const cx = img.originalWidth / 2,
      cy = img.originalHeight / 2;
    const dist = (f: DetectedFace) => Math.hypot(f.box.x + f.box.width / 2 - cx, f.box.y + f.box.height / 2 - cy);
    faces.sort((a, b) => dist(a) - dist(b));
    return { width: img.originalWidth, height: img.originalHeight, faces };
  }
}

function callAndTimings(
  a: ImageCallOptions | StageTimings | undefined,
  b: StageTimings | undefined,
): [ImageCallOptions | undefined, StageTimings | undefined] {
  if (a && typeof (a as StageTimings).decode === 'number') return [undefined, a as StageTimings];
  return [a as ImageCallOptions | undefined, b];
}

function scaleBox(b: Box, s: number): Box {
  return { x: b.x * s, y: b.y * s, width: b.width * s, height: b.height * s };
}

function scalePoints(p: FivePoints, s: number): FivePoints {
  const f = (q: Point): Point => ({ x: q.x * s, y: q.y * s });
  return [f(p[0]), f(p[1]), f(p[2]), f(p[3]), f(p[4])];
}

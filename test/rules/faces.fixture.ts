import type { FaceAnalyzer, ImageOptions } from '../../src/face/analyzer.js';
import type { Analysis, DetectedFace, EmbeddedFace } from '../../src/face/engine.js';
import type { FaceQuality } from '../../src/face/quality.js';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { engineOptions, tempDir } from '../helpers.js';

/** One face of a fake photo: whose, which picture of them, its box height in pixels, quality overrides. */
export type FakeFace = readonly [person: string, photo: string, height?: number, quality?: Partial<FaceQuality>];

/**
 * The fake engine (`support/fake-analyzer.ts`) with faces of chosen sizes and qualities, for the
 * rules that depend on them (which face a probe leads with, which face of a photo dominates). A photo
 * is `sized:<JSON>\n` followed by the fake engine's own text.
 */
export class SizedFakeAnalyzer implements FaceAnalyzer {
  private readonly inner: FaceAnalyzer = new FakeAnalyzer();
  readonly modelId = this.inner.modelId;

  async analyze(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<EmbeddedFace>> {
    const { specs, rest } = split(bytes);
    const r = await this.inner.analyze(rest, opts);
    return { ...r, faces: r.faces.map((f, i) => resize(f, specs[i])) };
  }

  async detect(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<DetectedFace>> {
    const { specs, rest } = split(bytes);
    const r = await this.inner.detect(rest, opts);
    return { ...r, faces: r.faces.map((f, i) => resize(f, specs[i])) };
  }
}

/** The bytes SizedFakeAnalyzer reads as these faces, side by side. */
export function fakeFaces(...faces: readonly FakeFace[]): Uint8Array {
  const specs = faces.map(([, , height, quality]) => ({ height: height ?? 140, quality: quality ?? {} }));
  const text = faces.map(([p, photo]) => `face:${p}:${photo}`).join('|') || 'noface';
  return new Uint8Array(Buffer.from(`sized:${JSON.stringify(specs)}\n${text}`));
}

type Spec = { height: number; quality: Partial<FaceQuality> };

function split(bytes: Uint8Array): { specs: Spec[]; rest: Uint8Array } {
  const s = Buffer.from(bytes).toString('utf8');
  if (!s.startsWith('sized:')) return { specs: [], rest: bytes };
  const nl = s.indexOf('\n');
  return { specs: JSON.parse(s.slice(6, nl)) as Spec[], rest: new Uint8Array(Buffer.from(s.slice(nl + 1))) };
}

function resize<F extends DetectedFace>(f: F, spec: Spec | undefined): F {
  if (!spec) return f;
  const k = spec.height / f.box.height;
  const at = (p: { x: number; y: number }) => ({ x: f.box.x + (p.x - f.box.x) * k, y: f.box.y + (p.y - f.box.y) * k });
  const [a, b, c, d, e] = f.landmarks;
  return {
    ...f,
    box: { ...f.box, width: f.box.width * k, height: spec.height },
    landmarks: [at(a), at(b), at(c), at(d), at(e)],
    quality: {
      ...f.quality,
      faceSize: spec.height,
      eyeDistance: f.quality.eyeDistance * k,
      ...spec.quality,
    },
  };
}

/** Veil on this run's database with the sized fake engine. */
export async function sizedVeil(env: Record<string, string> = {}): Promise<Veil> {
  return openVeil({
    ...(await engineOptions()),
    dataDir: tempDir('veil-rules-'),
    clock: new ManualClock('2026-06-01T10:00:00.000Z'),
    engine: new SizedFakeAnalyzer(),
    env,
  });
}

import { createHash } from 'node:crypto';
import type { FaceAnalyzer, ImageOptions } from '../src/face/analyzer.js';
import { LIVENESS_MODEL, LIVENESS_THRESHOLD } from '../src/face/liveness.js';
import type { Analysis, DetectedFace, EmbeddedFace } from '../src/face/engine.js';
import { MODELS } from '../src/face/models.js';
import { VeilError } from '../src/errors.js';

/**
 * A stand-in for the face engine in rule tests, where the rule under test is not the engine: an
 * "image" is the text `face:<person>:<photo>` (several faces separated by `|`, `noface` for none),
 * and each person has a fixed random direction in 512-d space, so two photos of one person score
 * about 0.8 and two people about 0. A photo named `spoof` (`face:<person>:spoof`) scores 0.02 on the
 * liveness check, any other 0.98. Every rule also has a test on the real engine and real photos.
 */
export class FakeAnalyzer implements FaceAnalyzer {
  readonly modelId: string = MODELS.embedder.id;

  async analyze(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<EmbeddedFace>> {
    const faces = this.parse(bytes);
    return {
      width: 640,
      height: 480,
      faces: faces.map((f, i) => ({
        ...box(i),
        ...live(f.photo, opts),
        embedding: embed(f.person, f.photo),
        model: this.modelId,
      })),
    };
  }

  async detect(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<DetectedFace>> {
    return { width: 640, height: 480, faces: this.parse(bytes).map((f, i) => ({ ...box(i), ...live(f.photo, opts) })) };
  }

  private parse(bytes: Uint8Array): { person: string; photo: string }[] {
    const s = Buffer.from(bytes).toString('utf8');
    if (s === 'noface') return [];
    if (!s.startsWith('face:')) throw new VeilError('INVALID_IMAGE', 'The file is not an image that can be decoded.');
    return s.split('|').map((p) => {
      const [, person, photo] = p.split(':');
      return { person: person ?? 'x', photo: photo ?? '1' };
    });
  }
}

/** The bytes the fake engine reads as one face of `person` (a different `photo` is a new picture of them). */
export function fakePhoto(person: string, photo = '1'): Uint8Array {
  return new Uint8Array(Buffer.from(`face:${person}:${photo}`));
}

export function fakeGroup(...people: string[]): Uint8Array {
  return new Uint8Array(Buffer.from(people.map((p) => `face:${p}:g`).join('|')));
}

function unit(seed: string): Float32Array {
  const v = new Float32Array(512);
  let h = createHash('sha256').update(seed).digest();
  for (let i = 0; i < 512; i++) {
    if (i % 8 === 0 && i) h = createHash('sha256').update(h).digest();
    // Box-Muller-free: a centred uniform per dimension is isotropic enough for cosine tests.
    v[i] = h.readUInt32BE((i % 8) * 4) / 2 ** 32 - 0.5;
  }
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function embed(person: string, photo: string): Float32Array {
  const a = unit(`person:${person}`);
  const b = unit(`photo:${person}:${photo}`);
  const v = a.map((x, i) => x + 0.5 * b[i]!);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

function box(i: number): DetectedFace {
  const x = 40 + i * 150;
  return {
    box: { x, y: 60, width: 120, height: 140 },
    score: 0.99,
    landmarks: [
      { x: x + 35, y: 110 },
      { x: x + 85, y: 110 },
      { x: x + 60, y: 140 },
      { x: x + 40, y: 170 },
      { x: x + 80, y: 170 },
    ],
    quality: { faceSize: 140, eyeDistance: 50, detectorScore: 0.99, sharpness: 300, yaw: 0, roll: 0, pitch: 0 },
  };
}

function live(photo: string, opts: ImageOptions | undefined): Pick<DetectedFace, 'liveness'> {
  if (!opts?.liveness) return {};
  const score = photo === 'spoof' ? 0.02 : 0.98;
  return { liveness: { score, live: score >= LIVENESS_THRESHOLD, model: LIVENESS_MODEL.id } };
}

import { basename, dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { VeilError } from '../errors.js';
import { MODELS, type ModelSpec } from './models.js';

const point = z.object({ x: z.number(), y: z.number() }).strict();
const perChannel = z.union([z.number(), z.tuple([z.number(), z.number(), z.number()])]);

/**
 * An ONNX face embedder brought by the operator (`VEIL_MODELS`, or `engine.embedders` in the config
 * file): what the engine needs to feed it and to keep its templates apart from every other model's.
 */
export const EmbedderDeclarationSchema = z
  .object({
    /** Recorded with every template; templates are never compared across ids. */
    id: z.string().regex(/^[A-Za-z0-9@._:+-]{1,100}$/, 'letters, digits and @ . _ : + - (at most 100)'),
    /** A file in the models folder, or an absolute path. */
    file: z.string().min(1),
    /** Checked on every load: a swapped or truncated file is refused. */
    sha256: z.string().regex(/^[0-9a-f]{64}$/, '64 lower-case hex digits'),
    /** Side of the square, aligned crop the model takes. */
    inputSize: z.number().int().min(32).max(640).default(112),
    channelOrder: z.enum(['rgb', 'bgr']).default('rgb'),
    /** Input value = (pixel - mean) / std, per channel in the declared order (one number: all three). */
    normalisation: z.object({ mean: perChannel, std: perChannel }).strict().default({ mean: 127.5, std: 127.5 }),
    /**
     * Five points (eye centres, nose tip, mouth corners; image-left first) the face is warped onto, in
     * the crop's pixels; 'arcface': the usual ArcFace 112x112 template scaled to inputSize.
     */
    alignment: z.union([z.literal('arcface'), z.array(point).length(5)]).default('arcface'),
    layout: z.enum(['nchw', 'nhwc']).default('nchw'),
    outputDimensions: z.number().int().min(2).max(4096),
    /** Tensor names; default: the model's first input and first output. */
    inputName: z.string().min(1).optional(),
    outputName: z.string().min(1).optional(),
  })
  .strict();

export type EmbedderDeclaration = z.output<typeof EmbedderDeclarationSchema>;

/** The shipped embedder, declared: the same path a brought model takes reproduces its templates. */
export const SHIPPED_EMBEDDER: EmbedderDeclaration = {
  id: MODELS.embedder.id,
  file: MODELS.embedder.file,
  sha256: MODELS.embedder.sha256,
  inputSize: 112,
  channelOrder: 'bgr',
  normalisation: { mean: 127, std: 128 },
  alignment: 'arcface',
  layout: 'nchw',
  outputDimensions: 512,
  inputName: 'input',
  outputName: 'output',
};

/** The setting's type: a JSON array of declarations (env) or the same array (config file). */
export const EmbedderDeclarationsSetting = z
  .preprocess((v) => {
    if (typeof v !== 'string') return v;
    try {
      return JSON.parse(v) as unknown;
    } catch {
      return v;
    }
  }, z.array(EmbedderDeclarationSchema).max(16))
  .refine((a) => new Set(a.map((d) => d.id)).size === a.length, 'each model id at most once')
  .refine((a) => a.every((d) => d.id !== MODELS.embedder.id), `'${MODELS.embedder.id}' is the shipped model's id`);

/** The active embedder: the shipped one, or the declaration whose id the operator chose. */
export function activeEmbedder(declared: readonly EmbedderDeclaration[], id: string | undefined): EmbedderDeclaration {
  if (!id || id === SHIPPED_EMBEDDER.id) return SHIPPED_EMBEDDER;
  const d = declared.find((x) => x.id === id);
  if (!d)
    throw new VeilError(
      'INVALID_INPUT',
      `No embedder '${id}' is declared (VEIL_MODELS); declared: ${declared.map((x) => x.id).join(', ') || 'none'}.`,
    );
  return d;
}

/** The model file as loadSession() reads it: folder and name, hash checked. */
export function modelSpec(d: EmbedderDeclaration, modelsDir: string): { dir: string; spec: ModelSpec } {
  const path = isAbsolute(d.file) ? d.file : join(modelsDir, d.file);
  return {
    dir: dirname(path),
    spec: { id: d.id, file: basename(path), sha256: d.sha256, npmPackage: 'declared by the operator' },
  };
}

/** The ArcFace template scaled to the crop, or the declared points. */
export function alignmentTemplate(d: EmbedderDeclaration, arcface112: readonly { x: number; y: number }[]) {
  if (d.alignment !== 'arcface') return d.alignment;
  const s = d.inputSize / 112;
  return arcface112.map((p) => ({ x: p.x * s, y: p.y * s }));
}

import type * as ortTypes from 'onnxruntime-node';
import { ort } from './models.js';
import type { RgbImage } from './image.js';
import { invertAffine, similarityTransform, warpCrop } from './geometry.js';
import { ARCFACE_TEMPLATE, l2normalize } from './embedder.js';
import type { FivePoints } from './landmarks.js';
import { alignmentTemplate, type EmbedderDeclaration } from './model-declaration.js';
import { VeilError } from '../errors.js';

const three = (v: number | readonly [number, number, number]): readonly [number, number, number] =>
  typeof v === 'number' ? [v, v, v] : v;

/**
 * An embedder fed as its declaration says (src/face/model-declaration.ts): the face warped onto the
 * declared five points at the declared size, channels in the declared order and layout, each value
 * (pixel - mean) / std; the output checked against the declared dimension and L2-normalised.
 */
export class DeclaredEmbedder {
  readonly id: string;
  readonly dimensions: number;
  private readonly template: FivePoints;
  private readonly input: string;
  private readonly output: string;

  constructor(
    private readonly session: ortTypes.InferenceSession,
    private readonly d: EmbedderDeclaration,
  ) {
    this.id = d.id;
    this.dimensions = d.outputDimensions;
    this.template = alignmentTemplate(d, ARCFACE_TEMPLATE) as unknown as FivePoints;
    this.input = d.inputName ?? session.inputNames[0]!;
    this.output = d.outputName ?? session.outputNames[0]!;
  }

  /** The aligned crop, RGB, inputSize x inputSize. */
  crop(img: RgbImage, points: FivePoints): Uint8Array {
    const n = this.d.inputSize;
    return warpCrop(img, invertAffine(similarityTransform(points, this.template)), n, n);
  }

  tensor(px: Uint8Array): Float32Array {
    const n = this.d.inputSize;
    const plane = n * n;
    const order = this.d.channelOrder === 'bgr' ? [2, 1, 0] : [0, 1, 2];
    const mean = three(this.d.normalisation.mean);
    const std = three(this.d.normalisation.std);
    const out = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const v = (px[i * 3 + order[c]!]! - mean[c]!) / std[c]!;
        out[this.d.layout === 'nchw' ? c * plane + i : i * 3 + c] = v;
      }
    }
    return out;
  }

  async embed(img: RgbImage, points: FivePoints): Promise<Float32Array> {
    const n = this.d.inputSize;
    const shape = this.d.layout === 'nchw' ? [1, 3, n, n] : [1, n, n, 3];
    const out = await this.session.run({
      [this.input]: new ort.Tensor('float32', this.tensor(this.crop(img, points)), shape),
    });
    const v = out[this.output]?.data as Float32Array | undefined;
    if (!v || v.length !== this.d.outputDimensions)
      throw new VeilError(
        'MODEL_CORRUPT',
        `Embedder '${this.d.id}' gave ${v?.length ?? 0} values; its declaration says ${this.d.outputDimensions}.`,
      );
    return l2normalize(v);
  }
}

import type * as ortTypes from 'onnxruntime-node';
import { ort } from './models.js';
import type { RgbImage } from './image.js';
import { ARCFACE_TEMPLATE } from './embedder.js';
import { applyAffine, composeAffine, invertAffine, similarityTransform, warpCrop, type Affine } from './geometry.js';
import type { Box, Point } from './geometry.js';

/** Eye centres, nose tip, mouth corners, in image coordinates; "left" is the image's left. */
export type FivePoints = readonly [Point, Point, Point, Point, Point];

const SIZE = 64;

/** The square crop the landmark model was trained on: side = box height, centred on the box. */
export function landmarkSquare(box: Box): Box {
  const side = box.height;
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, width: side, height: side };
}

/**
 * Where the first pass's landmark square lands, on average, in the 112x112 aligned crop (measured on
 * lfw-dev by scripts/accuracy/variants.ts): the second pass reads the face through this square, so
 * the model sees every face upright and framed as it was trained to, whatever the box and the roll.
 */
const CANONICAL_SQUARE = { cx: 57.6, cy: 63.7, side: 114 } as const;

/**
 * 68-point landmark model (fr_landmark.onnx) on a 64x64 grey crop. Two passes: the detector's box,
 * then the canonical square of the face aligned by the first pass (rotation and framing corrected).
 * The second pass costs one more 64x64 inference (about 7% of an image) and brought LFW folds 9-10
 * from 8 errors to 3 (docs/accuracy.md).
 */
export class Landmarker {
  constructor(private readonly session: ortTypes.InferenceSession) {}

  async landmarks68(img: RgbImage, box: Box, passes: 1 | 2 = 2): Promise<Point[]> {
    const sq = landmarkSquare(box);
    const s = sq.width / SIZE;
    // Grid continuous coordinate g -> photo continuous coordinate.
    const first = await this.pass(img, [s, 0, sq.x, 0, s, sq.y]);
    if (passes === 1) return first;
    const back = invertAffine(similarityTransform(lidFivePoints(first), ARCFACE_TEMPLATE));
    const k = CANONICAL_SQUARE.side / SIZE;
    const x0 = CANONICAL_SQUARE.cx - CANONICAL_SQUARE.side / 2;
    const y0 = CANONICAL_SQUARE.cy - CANONICAL_SQUARE.side / 2;
    return this.pass(img, composeAffine(back, [k, 0, x0, 0, k, y0]));
  }

  /** One inference over the 64x64 grid that `g2p` maps into the photo; the points in photo coordinates. */
  private async pass(img: RgbImage, g2p: Affine): Promise<Point[]> {
    // Grid pixel i has its centre at g = i + 0.5; the photo's pixel j has its centre at j + 0.5.
    const sample = composeAffine([1, 0, -0.5, 0, 1, -0.5], composeAffine(g2p, [1, 0, 0.5, 0, 1, 0.5]));
    const rgb = warpCrop(img, sample, SIZE, SIZE);
    const input = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < input.length; i++) {
      input[i] = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 256;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) });
    const v = out['output']!.data as Float32Array;
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push(applyAffine(g2p, { x: v[i * 2]! * SIZE, y: v[i * 2 + 1]! * SIZE }));
    return pts;
  }
}

const mean = (ps: Point[]): Point => ({
  x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
  y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
});

const mouth = (p: readonly Point[]): [Point, Point] => [mean([p[48]!, p[60]!]), mean([p[54]!, p[64]!])];

/** The first pass's five points: eye centres from the eyelid points only (what aligns the second pass). */
function lidFivePoints(p: readonly Point[]): FivePoints {
  const at = (i: number): Point => p[i]!;
  return [mean([at(37), at(38), at(40), at(41)]), mean([at(43), at(44), at(46), at(47)]), at(30), ...mouth(p)];
}

/**
 * iBUG 68-point layout to the five points of the ArcFace template: eye centres from all six points of
 * each eye (corners included: they anchor the centre better than the lids on the second pass), nose
 * tip, mouth corners from the outer and inner lip corners.
 */
export function toFivePoints(p: readonly Point[]): FivePoints {
  const eye = (from: number) => mean([0, 1, 2, 3, 4, 5].map((i) => p[from + i]!));
  return [eye(36), eye(42), p[30]!, ...mouth(p)];
}

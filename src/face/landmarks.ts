import type * as ortTypes from 'onnxruntime-node';
import { ort } from './models.js';
import type { RgbImage } from './image.js';
import { warpCrop, type Box, type Point } from './geometry.js';

/** Eye centres, nose tip, mouth corners, in image coordinates; "left" is the image's left. */
export type FivePoints = readonly [Point, Point, Point, Point, Point];

const SIZE = 64;

/** The square crop the landmark model was trained on: side = box height, centred on the box. */
export function landmarkSquare(box: Box): Box {
  const side = box.height;
  return { x: box.x + box.width / 2 - side / 2, y: box.y + box.height / 2 - side / 2, width: side, height: side };
}

/** 68-point landmark model (fr_landmark.onnx) on a 64x64 grey crop of the face box. */
export class Landmarker {
  constructor(private readonly session: ortTypes.InferenceSession) {}

  async landmarks68(img: RgbImage, box: Box): Promise<Point[]> {
    const sq = landmarkSquare(box);
    const s = sq.width / SIZE;
    const rgb = warpCrop(img, [s, 0, sq.x + s / 2 - 0.5, 0, s, sq.y + s / 2 - 0.5], SIZE, SIZE);
    const input = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < input.length; i++) {
      input[i] = (0.299 * rgb[i * 3]! + 0.587 * rgb[i * 3 + 1]! + 0.114 * rgb[i * 3 + 2]!) / 256;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) });
    const v = out['output']!.data as Float32Array;
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push({ x: sq.x + v[i * 2]! * sq.width, y: sq.y + v[i * 2 + 1]! * sq.height });
    return pts;
  }
}

const mean = (ps: Point[]): Point => ({
  x: ps.reduce((a, p) => a + p.x, 0) / ps.length,
  y: ps.reduce((a, p) => a + p.y, 0) / ps.length,
});

/** iBUG 68-point layout to the five points of the ArcFace template (eye centres from the eyelid points). */
export function toFivePoints(p: readonly Point[]): FivePoints {
  const at = (i: number): Point => p[i]!;
  return [
    mean([at(37), at(38), at(40), at(41)]),
    mean([at(43), at(44), at(46), at(47)]),
    at(30),
    mean([at(48), at(60)]),
    mean([at(54), at(64)]),
  ];
}

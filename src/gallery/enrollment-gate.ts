import type { Box } from '../face/geometry.js';
import { assessQuality, type FaceQuality, type QualityPolicy, type QualityVerdict } from '../face/quality.js';
import { VeilError } from '../errors.js';

/**
 * The enrollment gate's job is to refuse photos whose template would miss its owner, and only those.
 * Its minimums are calibrated on that outcome (scripts/accuracy/gate-lfw.ts on lfw-dev: how well a
 * photo's template matches the person's other photos; the curves are in docs/accuracy.md), per
 * channel:
 * - `selfie`: the self-service portal. The person is at the camera and can retake, so the gate is
 *   strict: it refuses wherever the miss rate starts to rise.
 * - `import`: an operator's existing photos, which cannot be retaken. It refuses only where the
 *   template would really fail: the miss rate is several times the base rate.
 */
export type EnrollmentGateName = 'selfie' | 'import';

export const ENROLLMENT_GATES: Readonly<Record<EnrollmentGateName, QualityPolicy>> = {
  selfie: {
    minFaceSize: 80,
    minEyeDistance: 32,
    minDetectorScore: 0.8,
    minSharpness: 40,
    maxAbsYaw: 30,
    maxAbsRoll: 20,
    maxAbsPitch: 30,
  },
  import: {
    minFaceSize: 48,
    minEyeDistance: 28,
    minDetectorScore: 0.5,
    minSharpness: 10,
    maxAbsYaw: 60,
    maxAbsRoll: 20,
    maxAbsPitch: 60,
  },
};

export function gateVerdict(q: FaceQuality, gate: QualityPolicy): QualityVerdict {
  return assessQuality(q, gate);
}

/**
 * What a detection reports about enrolling a face: under the `import` gate (the default of an
 * operator's enrollment), with the reasons it would refuse, and whether the portal's strict `selfie`
 * gate would take it too. One place, so `/v1/detect` and `veil faces detect` agree with enrollment.
 */
export function enrollability(q: FaceQuality): { enrollable: boolean; reasons: string[]; enrollableAsSelfie: boolean } {
  const v = assessQuality(q, ENROLLMENT_GATES.import);
  return {
    enrollable: v.acceptable,
    reasons: v.reasons.map((r) => r.code),
    enrollableAsSelfie: assessQuality(q, ENROLLMENT_GATES.selfie).acceptable,
  };
}

/** Which face of a photo the caller means, on a retry after MULTIPLE_FACES: its index or its box. */
export type FacePick = number | Box;

export type FaceChoice =
  | { readonly kind: 'face'; readonly index: number; readonly why: 'only' | 'dominant' | 'picked' }
  | { readonly kind: 'ambiguous'; readonly boxes: readonly Box[] }
  | { readonly kind: 'none' };

/** A face that dominates a photo is at least this many times as tall as every other face. */
export const DOMINANT_HEIGHT_RATIO = 2;
/**
 * Faces smaller than this could not be enrolled from a fresh photo (the `selfie` gate's minimums),
 * whatever the gate of this enrollment: a face that could be someone's enrollment is never ignored.
 */
const ENROLLABLE = { minFaceSize: 80, minEyeDistance: 32 } as const;

const iou = (a: Box, b: Box): number => {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0;
  const i = w * h;
  return i / (a.width * a.height + b.width * b.height - i);
};

/**
 * The face of an enrollment photo: the only one; the one the caller picked (an index into the
 * photo's faces, or a box that overlaps one by at least half); or the one that clearly dominates
 * (at least `DOMINANT_HEIGHT_RATIO` times as tall as every other face, and every other face too
 * small to enroll from a fresh photo, so it cannot be the person meant). Otherwise the photo is ambiguous
 * and every box is returned for the caller to pick from.
 */
export function chooseEnrollmentFace(
  faces: readonly { box: Box; quality: FaceQuality }[],
  pick?: FacePick,
): FaceChoice {
  if (!faces.length) return { kind: 'none' };
  if (pick !== undefined) {
    if (typeof pick === 'number') {
      return Number.isInteger(pick) && pick >= 0 && pick < faces.length
        ? { kind: 'face', index: pick, why: 'picked' }
        : { kind: 'ambiguous', boxes: faces.map((f) => f.box) };
    }
    let best = -1;
    let bestIou = 0.5;
    faces.forEach((f, i) => {
      const o = iou(f.box, pick);
      if (o >= bestIou) {
        best = i;
        bestIou = o;
      }
    });
    return best >= 0
      ? { kind: 'face', index: best, why: 'picked' }
      : { kind: 'ambiguous', boxes: faces.map((f) => f.box) };
  }
  if (faces.length === 1) return { kind: 'face', index: 0, why: 'only' };
  let top = 0;
  faces.forEach((f, i) => {
    if (f.box.height > faces[top]!.box.height) top = i;
  });
  const big = faces[top]!;
  const dominates = faces.every(
    (f, i) =>
      i === top ||
      (f.box.height * DOMINANT_HEIGHT_RATIO <= big.box.height &&
        (f.quality.faceSize < ENROLLABLE.minFaceSize || f.quality.eyeDistance < ENROLLABLE.minEyeDistance)),
  );
  return dominates
    ? { kind: 'face', index: top, why: 'dominant' }
    : { kind: 'ambiguous', boxes: faces.map((f) => f.box) };
}

/**
 * The face of enrollment photo `image` (1-based, for messages), or the typed error a caller can act
 * on: NO_FACE, or MULTIPLE_FACES with every box so the caller can pick one (`face` index or box).
 */
export function enrollmentFace<F extends { box: Box; quality: FaceQuality }>(
  faces: readonly F[],
  image: number,
  pick?: FacePick | null,
): { face: F; index: number; why: 'only' | 'dominant' | 'picked' } {
  const c = chooseEnrollmentFace(faces, pick ?? undefined);
  if (c.kind === 'none') throw new VeilError('NO_FACE', `Image ${image}: no face was found.`, { image });
  if (c.kind === 'ambiguous') {
    const boxes = c.boxes.map((b, index) => ({ index, ...roundBox(b) }));
    throw new VeilError(
      'MULTIPLE_FACES',
      pick === undefined || pick === null
        ? `Image ${image}: ${faces.length} faces were found and none clearly dominates; say which one to enroll (its index or box).`
        : `Image ${image}: the face asked for is not one of the ${faces.length} found; pick one of the boxes listed.`,
      { image, faces: faces.length, boxes },
    );
  }
  return { face: faces[c.index]!, index: c.index, why: c.why };
}

/** LOW_QUALITY unless the face passes the gate. */
export function requireGate(q: FaceQuality, image: number, gate: QualityPolicy): void {
  const verdict = gateVerdict(q, gate);
  if (!verdict.acceptable) {
    throw new VeilError('LOW_QUALITY', `Image ${image}: ${verdict.reasons.map((x) => x.message).join(' ')}`, {
      image,
      reasons: verdict.reasons.map((x) => x.code),
    });
  }
}

const roundBox = (b: Box): Box => ({
  x: Math.round(b.x),
  y: Math.round(b.y),
  width: Math.round(b.width),
  height: Math.round(b.height),
});

import type { Box } from '../face/geometry.js';
import type { FivePoints } from '../face/landmarks.js';
import type { FaceQuality } from '../face/quality.js';
import type { SearchAccountability } from '../auth/policy.js';
import type { SubjectId } from '../ids.js';
import type { Confirmation } from './match-confirmation.js';

/** Faces searched in one probe at most: each is a search of its own, so a crowd photo is bounded. */
export const MAX_FACES_PER_PROBE = 20;
/** Candidates returned per face at most. */
export const MAX_CANDIDATES_PER_FACE = 50;

export interface Candidate {
  readonly subjectId: SubjectId;
  readonly similarity: number;
  /** 1 for the face's best candidate: ranks count within a face. */
  readonly rank: number;
  /** Probability a person not in the gallery scores this high against one of its templates (fitted tail). */
  readonly estimatedFalseMatchRate: number;
  /**
   * Under a purpose with the two-person rule (EU AI Act Art. 14(5)): a new match is `unconfirmed`
   * until that many different people confirmed it. Absent when the purpose requires none.
   */
  readonly confirmation?: Confirmation;
}

/** One face of the probe and what its search found. */
export interface FaceSearchResult {
  /** Its position in the search's `faces` (largest face first), as the search record keeps it. */
  readonly face: number;
  /** In the probe's pixels (EXIF-oriented). */
  readonly box: Box;
  readonly detectorScore: number;
  readonly landmarks: FivePoints;
  readonly quality: FaceQuality;
  readonly decision: 'match' | 'no-match';
  readonly candidates: readonly Candidate[];
}

export interface IdentifyFacesInput extends SearchAccountability {
  readonly purpose: string;
  readonly image: Uint8Array;
  /** Faces to search, largest first (default and most: `MAX_FACES_PER_PROBE`). */
  readonly maxFaces?: number | undefined;
  /** Candidates per face (default 5, most `MAX_CANDIDATES_PER_FACE`). */
  readonly limit?: number | undefined;
  /** A stricter decision threshold than the calibrated one; never a looser one. */
  readonly threshold?: number | undefined;
  /** Faces the detector scored below this are not searched (CompreFace's `det_prob_threshold`). */
  readonly minDetectorScore?: number | undefined;
}

export interface IdentifyFacesResult {
  readonly searchId: string;
  readonly purpose: string;
  /** Faces the engine found in the probe; `faces` holds those searched. */
  readonly facesInProbe: number;
  /** The decision threshold: the open-set rule's for `gallerySize` and `fpir`, or a stricter one asked for. */
  readonly threshold: number;
  /** Matchable templates searched, and the false-positive identification rate the threshold targets. */
  readonly gallerySize: number;
  readonly fpir: number;
  readonly model: string;
  /** One result per face searched, largest face first. */
  readonly faces: readonly FaceSearchResult[];
}

/** An integer option within bounds, or its default when absent. */
export function bounded(v: number | undefined, min: number, max: number, fallback: number): number {
  if (v === undefined || !Number.isFinite(v)) return fallback;
  return Math.max(min, Math.min(max, Math.floor(v)));
}

/**
 * The faces a probe search covers: at least `minScore` from the detector, largest first (the
 * largest face is the one a single-face client means), at most `maxFaces`. Ties in size keep the
 * engine's order, so the choice is deterministic.
 */
export function facesToSearch<F extends { box: Box; score: number }>(
  faces: readonly F[],
  maxFaces: number,
  minScore = 0,
): F[] {
  const area = (f: F) => f.box.width * f.box.height;
  return faces
    .map((f, i) => ({ f, i }))
    .filter(({ f }) => f.score >= minScore)
    .sort((a, b) => area(b.f) - area(a.f) || a.i - b.i)
    .slice(0, maxFaces)
    .map(({ f }) => f);
}

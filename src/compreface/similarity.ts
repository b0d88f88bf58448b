/**
 * Veil's scores on CompreFace's similarity scale. Veil decides with a cosine similarity against a
 * decision threshold set per search (the calibrated open-set threshold, or a stricter one); CompreFace
 * clients decide with a fixed number on a 0-1 scale, and Double Take ships with 0.60 as "match". The
 * mapping is monotonic and piecewise linear, so that each search's own threshold lands on 0.60:
 *
 *   cosine -1 .. t   ->  0.00 .. 0.60
 *   cosine  t .. 1   ->  0.60 .. 1.00
 *
 * A client comparing the result with 0.60 thus takes exactly Veil's decision; a client with a higher
 * bar gets a stricter one. Subjects below the threshold are never returned by recognize, so a name
 * with a similarity under 0.60 is never disclosed.
 */
export const COMPREFACE_MATCH = 0.6;

/** CompreFace prints similarities and detector probabilities with five decimals. */
export function round5(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}

export function toCompreFaceSimilarity(cosine: number, threshold: number): number {
  if (!Number.isFinite(cosine)) return 0;
  const t = Math.min(Math.max(threshold, -0.999), 0.999);
  const s = Math.min(Math.max(cosine, -1), 1);
  const v =
    s < t ? (COMPREFACE_MATCH * (s + 1)) / (t + 1) : COMPREFACE_MATCH + ((1 - COMPREFACE_MATCH) * (s - t)) / (1 - t);
  // A score at or above the threshold never rounds below 0.60, one below never rounds up to it.
  const r = round5(v);
  if (s >= t) return Math.max(COMPREFACE_MATCH, r);
  return Math.min(r, COMPREFACE_MATCH - 1e-5);
}

/** The inverse, for tests and for reading a client's bar back as a Veil threshold. */
export function fromCompreFaceSimilarity(similarity: number, threshold: number): number {
  const t = Math.min(Math.max(threshold, -0.999), 0.999);
  const v = Math.min(Math.max(similarity, 0), 1);
  return v < COMPREFACE_MATCH
    ? (v * (t + 1)) / COMPREFACE_MATCH - 1
    : t + ((v - COMPREFACE_MATCH) * (1 - t)) / (1 - COMPREFACE_MATCH);
}

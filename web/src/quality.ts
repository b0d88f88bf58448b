/** Face quality in words: the enrollment minimums of src/face/quality.ts, and twice them for "good". */
export type QualityLevel = 'good' | 'fair' | 'poor';

export function qualityLevel(q: {
  faceSize?: number;
  sharpness?: number;
  yaw?: number;
  roll?: number;
  pitch?: number;
}): QualityLevel {
  const size = q.faceSize ?? 0;
  const sharp = q.sharpness ?? 0;
  const pose = Math.max(Math.abs(q.yaw ?? 0), Math.abs(q.roll ?? 0), Math.abs(q.pitch ?? 0));
  if (size < 64 || sharp < 60 || pose > 40) return 'poor';
  if (size >= 128 && sharp >= 120 && pose <= 20) return 'good';
  return 'fair';
}

/**
 * Where a JSON document (an API answer, a report, audit entries) holds something shaped like face
 * data, by shape rather than by name: a vector is a run of numbers whatever its key is called. Found:
 * an array of more than `MAX_NUMBERS` numbers, an object with more than that many numeric keys (a typed
 * array through JSON.stringify), and a string of `MIN_BLOB` or more base64 or hex characters (a photo
 * or a sealed template). Returns the paths of what it found; empty when there is nothing.
 */
export function faceDataIn(doc: unknown, path = '$'): string[] {
  if (typeof doc === 'string') return BLOB.test(doc) ? [path] : [];
  if (doc === null || typeof doc !== 'object') return [];
  const entries = Object.entries(doc);
  const numbers = entries.filter(([, v]) => typeof v === 'number').length;
  const here = numbers > MAX_NUMBERS && (Array.isArray(doc) || entries.every(([k]) => /^\d+$/.test(k))) ? [path] : [];
  return [...here, ...entries.flatMap(([k, v]) => faceDataIn(v, `${path}.${k}`))];
}

/** Counts and ids make small groups of numbers; no answer of Veil's has more in one place. */
const MAX_NUMBERS = 4;
const MIN_BLOB = 64;
const BLOB = new RegExp(`[A-Za-z0-9+/=_-]{${MIN_BLOB},}`);

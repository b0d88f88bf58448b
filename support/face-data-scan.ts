/**
 * Where a JSON document (an API answer, a report, audit entries) holds something shaped like face
 * data, by shape rather than by name: a vector is a run of numbers whatever its key is called. Found:
 * an array of more than `MAX_NUMBERS` numbers, an object with more than that many numeric keys (a typed
 * array through JSON.stringify), a string of `MIN_BLOB` or more base64 or hex characters (a photo
 * or a sealed template), and a string with more than `MAX_NUMBERS` numbers in a row (a vector joined
 * or printed). Returns the paths of what it found; empty when there is nothing.
 */
export function faceDataIn(doc: unknown, path = '$'): string[] {
  if (typeof doc === 'string') return BLOB.test(doc) || NUMBER_RUN.test(doc) ? [path] : [];
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
/** A vector written out as text (joined, printed): more than `MAX_NUMBERS` numbers in a row. */
const NUMBER = String.raw`-?\d+(\.\d+)?(e[-+]?\d+)?`;
const NUMBER_RUN = new RegExp(`${NUMBER}([\\s,;]+${NUMBER}){${MAX_NUMBERS},}`, 'i');

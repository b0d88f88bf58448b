import { VeilError } from '../errors.js';

/**
 * Where a request input holds a NUL character (U+0000), in a string or an object key, as a path
 * (`body.details`, `params.id`); undefined when none. No field of any route has a use for NUL,
 * PostgreSQL cannot store it in text (it answers an error the API would report as a 500), and
 * SQLite and C libraries cut strings at it: every input is refused in one place before validation.
 */
export function nulPath(v: unknown, path: string, depth = 0): string | undefined {
  if (typeof v === 'string') return v.includes('\u0000') ? path : undefined;
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v) || depth > 64) return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const p = nulPath(v[i], `${path}[${i}]`, depth + 1);
      if (p) return p;
    }
    return undefined;
  }
  for (const [k, x] of Object.entries(v)) {
    if (k.includes('\u0000')) return path;
    const p = nulPath(x, `${path}.${k}`, depth + 1);
    if (p) return p;
  }
  return undefined;
}

/** Refuses a request whose path parameters, query or body hold a NUL character (typed 400). */
export function rejectNul(inputs: { params: unknown; query: unknown; body: unknown }): void {
  for (const [where, v] of Object.entries(inputs)) {
    const at = nulPath(v, where);
    if (at) throw new VeilError('INVALID_INPUT', `${at} contains a NUL character (\\u0000), which no field accepts.`);
  }
}

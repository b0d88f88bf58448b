/**
 * Canonical JSON (the RFC 8785 subset Veil needs): object keys sorted by UTF-16 code units, no
 * whitespace, numbers as JavaScript prints them. Two parties serialising the same value get the
 * same bytes, which is what the audit hashes and signatures are computed over.
 */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

export function canonicalJson(v: Json): string {
  if (v === null || typeof v === 'boolean' || typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('canonical JSON cannot hold NaN or Infinity');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(v)
    .filter((k) => v[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k]!)}`).join(',')}}`;
}

/**
 * What CompreFace clients send, read liberally. Clients in the wild are sloppy: the official JS SDK
 * appends a second `?` instead of `&` (`?subject=Ann?det_prob_threshold=0.8`), Python clients send
 * booleans as `True`/`False`, form encoders turn a space into `+`, and plugin lists arrive with
 * `undefined` or names no server knows. Each leniency here is listed in the README's "Coming from
 * CompreFace" section.
 */

/** Face plugins Veil serves: the five landmarks and the head pose. */
export const SERVED_PLUGINS = ['landmarks', 'pose'] as const;
export type ServedPlugin = (typeof SERVED_PLUGINS)[number];

/** Query parameters CompreFace documents, the only ones a stray `?` is split on. */
const KNOWN_PARAMS = new Set([
  'subject',
  'det_prob_threshold',
  'limit',
  'prediction_count',
  'face_plugins',
  'status',
  'detect_faces',
  'page',
  'size',
]);

/**
 * A query with the SDK's doubled `?` undone: a value holding `?name=value` pairs of known
 * parameters is cut there and the pairs become parameters of their own (an explicit one wins).
 */
export function unfoldQuery(q: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  const extra: Record<string, string> = {};
  for (const [k, raw] of Object.entries(q ?? {})) {
    const v = Array.isArray(raw) ? String(raw[0] ?? '') : raw === undefined ? '' : String(raw);
    const parts = v.split('?');
    const tail = parts.slice(1);
    const pairs = tail.flatMap((p) => p.split('&')).map((p) => p.split('='));
    if (
      tail.length &&
      pairs.every(([name, val]) => name !== undefined && KNOWN_PARAMS.has(name) && val !== undefined)
    ) {
      out[k] = parts[0]!;
      for (const [name, val] of pairs) extra[name!] = decodeURIComponent(val!.replace(/\+/g, ' '));
    } else out[k] = v;
  }
  return { ...extra, ...out };
}

/** A boolean as any client spells it; undefined when absent or unreadable. */
export function flag(v: unknown): boolean | undefined {
  if (typeof v === 'boolean') return v;
  if (typeof v !== 'string') return undefined;
  const s = v.trim().toLowerCase();
  if (['true', '1', 'yes', 'on', 't', 'y'].includes(s)) return true;
  if (['false', '0', 'no', 'off', 'f', 'n', ''].includes(s)) return false;
  return undefined;
}

/** A number, or undefined when absent, empty or the literal `undefined`/`null`. */
export function num(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v !== 'string') return undefined;
  const s = v.trim();
  if (!s || s === 'undefined' || s === 'null') return undefined;
  const n = Number(s);
  return Number.isFinite(n) ? n : undefined;
}

/** Plugins asked for that Veil serves; unknown names, `undefined`, and age/gender/mask/calculator are ignored. */
export function plugins(v: unknown): Set<ServedPlugin> {
  const asked = (typeof v === 'string' ? v : Array.isArray(v) ? v.join(',') : '')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  return new Set(SERVED_PLUGINS.filter((p) => asked.includes(p)));
}

/** A subject name as the client meant it: trimmed, Unicode-normalised. */
export function subjectName(v: unknown): string {
  return typeof v === 'string' ? v.normalize('NFC').trim() : '';
}

/** The key a name is compared by: CompreFace compares subject names case-insensitively. */
export function aliasKey(name: string): string {
  return subjectName(name).toLocaleLowerCase('en-US');
}

/** Names to try for a name that may have had its spaces turned into `+` on the way. */
export function nameCandidates(name: string): string[] {
  const n = subjectName(name);
  return n.includes('+') ? [n, n.replace(/\+/g, ' ')] : [n];
}

import type { VectorHit } from './vector-index.js';

/**
 * Exact vectors of templates by id, read from the store on demand (the quantised tier keeps only
 * int8 copies in memory). Ids it cannot read any more (erased meanwhile) are absent from the answer.
 */
export type ExactVectors = (ids: readonly string[]) => Promise<Map<string, Float32Array>>;

/**
 * The exact top k at or above the threshold among bounded hits: those without an error bound keep
 * their score, the others are scored on their exact vector; a hit whose vector is not returned (or
 * that `keep` refuses: removed from the index while the vectors were read) is dropped.
 */
export async function rescoreExactly(
  hits: readonly VectorHit[],
  query: Float32Array,
  k: number,
  threshold: number,
  vectors: ExactVectors,
  keep: (id: string) => boolean = () => true,
): Promise<VectorHit[]> {
  const bounded = hits.filter((h) => h.error !== undefined);
  const exact = bounded.length ? await vectors(bounded.map((h) => h.id)) : new Map<string, Float32Array>();
  const out: VectorHit[] = [];
  for (const h of hits) {
    if (!keep(h.id)) continue;
    if (h.error === undefined) {
      if (h.score >= threshold) out.push(h);
      continue;
    }
    const v = exact.get(h.id);
    if (!v) continue;
    const score = dot(v, query);
    if (score >= threshold) out.push({ id: h.id, score });
  }
  return out.sort((a, b) => b.score - a.score).slice(0, k);
}

export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new Error(`vector has ${a.length} dimensions, query has ${b.length}`);
  let s = 0;
  for (let j = 0; j < a.length; j++) s += a[j]! * b[j]!;
  return s;
}

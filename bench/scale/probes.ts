// Splits the lfw-dev embeddings into what the scale bench needs: mated probes (one photo of a person
// enrolled, another used as the probe), non-mated probes (people never enrolled) and the embeddings
// the distractor model is fitted on (people with one photo, who are neither enrolled nor probes).
import { Gaussian } from '../../support/distractors.js';
import type { LfwEmbeddings } from './lfw.js';

const D = 512;

export interface ProbeSet {
  /** One enrolled template per mated person. */
  readonly mates: Float32Array[];
  /** probes[i] is another photo of the person of mates[i]. */
  readonly mated: Float32Array[];
  /** Photos of people with no template in the gallery. */
  readonly nonMated: Float32Array[];
  /** rows x 512: the embeddings the distractors are fitted on. */
  readonly fit: Float32Array;
}

export function splitProbes(e: LfwEmbeddings, seed = 7): ProbeSet {
  const rows = new Map<string, number[]>();
  e.identity.forEach((p, i) => rows.set(p, [...(rows.get(p) ?? []), i]));
  const row = (i: number) => e.vectors.slice(i * D, (i + 1) * D);
  const rng = new Gaussian(seed);
  const people = [...rows.keys()].sort();
  for (let i = people.length - 1; i > 0; i--) {
    const j = Math.floor(rng.uniform() * (i + 1));
    [people[i], people[j]] = [people[j]!, people[i]!];
  }
  const mates: Float32Array[] = [];
  const mated: Float32Array[] = [];
  const nonMated: Float32Array[] = [];
  const fit: number[] = [];
  let multi = 0;
  for (const p of people) {
    const r = rows.get(p)!;
    if (r.length === 1) {
      fit.push(r[0]!);
      continue;
    }
    // Every other person with several photos is enrolled; the rest are the non-mated probes.
    if (multi++ % 2 === 0) {
      mates.push(row(r[0]!));
      mated.push(row(r[1]!));
    } else nonMated.push(row(r[0]!));
  }
  const out = new Float32Array(fit.length * D);
  fit.forEach((i, k) => out.set(e.vectors.subarray(i * D, (i + 1) * D), k * D));
  return { mates, mated, nonMated, fit: out };
}

/** Counts per bin of width `w` from `lo`, for a text histogram. */
export function histogram(xs: Float32Array | number[], lo = -0.3, hi = 0.8, w = 0.05): number[] {
  const bins = new Array<number>(Math.round((hi - lo) / w)).fill(0);
  for (const x of xs) bins[Math.min(bins.length - 1, Math.max(0, Math.floor((x - lo) / w)))]!++;
  return bins;
}

export function quantile(xs: Float32Array, q: number): number {
  const s = Float32Array.from(xs).sort();
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/**
 * What `veil faces calibrate` fits from a labelled set of embeddings, and how large the set must be
 * before its numbers may be trusted (pure: the CLI feeds it embeddings made with the real engine).
 */
import { VeilError } from '../errors.js';
import { calibrate, type Calibration } from './calibration.js';
import { cosine } from './embedder.js';
import { fitImpostorTail } from '../gallery/open-set.js';
import type { StoredTail } from './model-calibration.js';

/**
 * The smallest set whose numbers are worth trusting (docs/accuracy.md, "How large a calibration set").
 * - The 1:1 threshold: a sample of n impostor pairs cannot show an FMR below 1/n, and at n = 1/target it
 *   rests on the one pair expected above it. At n >= 10 / target about 10 are expected, so the measured
 *   FMR at the threshold is known to about +-30% (Poisson, 1/sqrt(10)).
 * - The impostor tail: fitted by lfw-dev subsets of half the identities and checked on the other half's
 *   gallery (scripts/accuracy/calibration-size.ts, 20 subsets per size, target FPIR 1%): 300 people
 *   (~138,000 pairs, ~140 tail points) gave FPIRs up to 2.6% (2 of 20 over twice the target); 400 people
 *   (~240,000 pairs) at most 1.4%, none over 2%. Both counts are asked: many photos of few people give
 *   pairs but not the variety of look-alikes the tail is made of.
 */
export const CALIBRATION_MINIMUMS = {
  /** Impostor pairs at least this many times 1 / target FMR. */
  impostorPairsPerTargetFmr: 10,
  tailIdentities: 400,
  /** At the 99.9th percentile the tail is fitted above, 200 points. */
  tailImpostorPairs: 200_000,
} as const;

export interface SetSize {
  readonly identities: number;
  readonly photos: number;
  readonly genuinePairs: number;
  readonly impostorPairs: number;
}

/** Counts of a labelled set from the identity of each photo. */
export function setSize(identities: readonly string[]): SetSize {
  const per = new Map<string, number>();
  for (const id of identities) per.set(id, (per.get(id) ?? 0) + 1);
  const n = identities.length;
  let genuinePairs = 0;
  for (const k of per.values()) genuinePairs += (k * (k - 1)) / 2;
  return { identities: per.size, photos: n, genuinePairs, impostorPairs: (n * (n - 1)) / 2 - genuinePairs };
}

export interface Shortfall {
  readonly what: 'identities' | 'genuinePairs' | 'impostorPairs';
  readonly found: number;
  readonly needed: number;
  readonly why: string;
}

/** What the set lacks for a threshold at `targetFmr` and, with `tail`, for an impostor tail. */
export function shortfalls(size: SetSize, targetFmr: number, tail: boolean): Shortfall[] {
  const m = CALIBRATION_MINIMUMS;
  const need = (what: Shortfall['what'], found: number, needed: number, why: string): Shortfall[] =>
    found < needed ? [{ what, found, needed, why }] : [];
  return [
    ...need('identities', size.identities, 2, 'different people are needed'),
    ...need('genuinePairs', size.genuinePairs, 1, 'someone needs two photos'),
    ...need(
      'impostorPairs',
      size.impostorPairs,
      Math.ceil(m.impostorPairsPerTargetFmr / targetFmr),
      `a threshold at FMR ${targetFmr} needs ${m.impostorPairsPerTargetFmr} / ${targetFmr} different-person pairs`,
    ),
    ...(tail
      ? [
          ...need('identities', size.identities, m.tailIdentities, 'an impostor tail needs that many people'),
          ...need('impostorPairs', size.impostorPairs, m.tailImpostorPairs, 'an impostor tail needs that many pairs'),
        ]
      : []),
  ];
}

/** Refuses a set too small, naming what it holds and what it needs (CALIBRATION_SET_TOO_SMALL). */
export function requireCalibrationSet(size: SetSize, targetFmr: number, tail: boolean): void {
  const short = shortfalls(size, targetFmr, tail);
  if (!short.length) return;
  const fmt = (n: number) => n.toLocaleString('en-US');
  throw new VeilError(
    'CALIBRATION_SET_TOO_SMALL',
    `The calibration set is too small: ${short.map((s) => `${fmt(s.found)} ${label[s.what]}, ${fmt(s.needed)} needed (${s.why})`).join('; ')}. It holds ${fmt(size.photos)} photos of ${fmt(size.identities)} people; see docs/accuracy.md.`,
    { found: size, needed: Object.fromEntries(short.map((s) => [s.what, s.needed])) },
  );
}

const label: Record<Shortfall['what'], string> = {
  identities: 'people',
  genuinePairs: 'same-person pairs',
  impostorPairs: 'different-person pairs',
};

export interface FittedSet {
  readonly size: SetSize;
  readonly calibration: Calibration;
  /** Null unless asked for (and then the set is large enough for one). */
  readonly tail: StoredTail | null;
}

/**
 * Scores every pair of the embedded photos, refuses a set too small, and fits the 1:1 operating point
 * and (with `tail`) the impostor tail: the same generalised Pareto fit above the 99.9th percentile of
 * every cross-identity pair that made the shipped model's tail (scripts/accuracy/lfw-report.ts).
 */
export function fitCalibrationSet(
  model: string,
  embedded: readonly { identity: string; e: Float32Array }[],
  opts: { targetFmr: number; tail: boolean; dataset: string; at: string },
): FittedSet {
  const size = setSize(embedded.map((x) => x.identity));
  requireCalibrationSet(size, opts.targetFmr, opts.tail);
  const genuine = new Float64Array(size.genuinePairs);
  const impostor = new Float64Array(size.impostorPairs);
  let g = 0;
  let im = 0;
  for (let i = 0; i < embedded.length; i++)
    for (let j = i + 1; j < embedded.length; j++) {
      const s = cosine(embedded[i]!.e, embedded[j]!.e);
      if (embedded[i]!.identity === embedded[j]!.identity) genuine[g++] = s;
      else impostor[im++] = s;
    }
  const calibration = calibrate(model, genuine, impostor, opts.targetFmr);
  if (!opts.tail) return { size, calibration, tail: null };
  const fit = fitImpostorTail(model, impostor);
  const { identities, photos } = size;
  const fittedOn = { dataset: opts.dataset, identities, photos, impostorPairs: impostor.length, at: opts.at };
  return { size, calibration, tail: { ...fit, fittedOn } };
}

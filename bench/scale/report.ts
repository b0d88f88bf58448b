import { round, table } from '../stats.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Markdown for one run of bench/scale.bench.ts. */
export function renderScale(s: any): string {
  const pct = (x: number) => `${round(100 * x, 2)}%`;
  const ms = (x: { p50: number; p99: number } | null) => (x ? `${round(x.p50, 2)} / ${round(x.p99, 2)}` : 'not run');
  const out = [
    `### Scale: ${s.templates.toLocaleString('en')} templates (${s.distractors.toLocaleString('en')} distractors, ${s.matedProbes} real mates), quantised index`,
    table(
      ['measure', 'value'],
      [
        ['index build through GalleryIndex.add, s', round(s.buildSeconds, 1)],
        [
          'RSS added by the index, MB (bytes per template)',
          `${round(s.indexRssMb, 0)} (${round(s.indexBytesPerTemplate, 0)})`,
        ],
        ['peak RSS of the bench process, MB (rows, exact reference and 2 searchers included)', round(s.peakRssMb, 0)],
        ['search p50 / p99 ms, concurrency 1', ms(s.searchMs.c1)],
        ['search p50 / p99 ms, concurrency 2 (one index per searcher)', ms(s.searchMs.c2)],
        [
          'exact templates read per search for the re-score: at the threshold (k 5) / rank 1 (k 1, no threshold), mean (max)',
          s.exactReadsPerSearch
            ? `${round(s.exactReadsPerSearch.atThreshold.mean, 1)} (${s.exactReadsPerSearch.atThreshold.max}) / ${round(s.exactReadsPerSearch.rank1.mean, 1)} (${s.exactReadsPerSearch.rank1.max})`
            : 'not measured',
        ],
        [
          'real probes whose mate is rank 1: exact / index / both',
          `${s.rank1.exact} / ${s.rank1.index} / ${s.rank1.kept}`,
        ],
        ['genuine-match retention (index rank 1 among exact rank-1 hits)', pct(s.rank1.retention)],
        [
          `DIR at threshold ${s.decision.threshold}: exact / index`,
          `${pct(s.decision.exact.dir)} / ${pct(s.decision.index.dir)}`,
        ],
        [
          `FPIR at threshold ${s.decision.threshold}: exact / index (${s.nonMatedProbes} non-mated probes)`,
          `${pct(s.decision.exact.fpir)} / ${pct(s.decision.index.fpir)}`,
        ],
      ],
    ),
    'Probe-to-distractor cosine scores next to the real impostor scores of lfw-dev (share of scores per bin):',
    table(
      ['cosine from', 'real impostors', 'distractors'],
      s.scores.realImpostor.hist.map((n: number, i: number) => [
        round(s.scores.histLo + i * s.scores.histStep, 2),
        pct(n / s.scores.realImpostor.n),
        pct(s.scores.distractor.hist[i] / s.scores.distractor.n),
      ]),
    ),
    `99.9th percentile: real impostors ${round(s.scores.realImpostor.p999, 3)} (${s.scores.realImpostor.n.toLocaleString('en')} scores), distractors ${round(s.scores.distractor.p999, 3)} (${s.scores.distractor.n.toLocaleString('en')} scores).`,
  ];
  return out.join('\n\n');
}

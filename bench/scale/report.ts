import { round, table } from '../stats.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
/** Markdown for one run of bench/scale.bench.ts: the build, then one row per configuration compared. */
export function renderScale(s: any): string {
  const pct = (x: number) => `${round(100 * x, 2)}%`;
  const ms = (x: { p50: number; p99: number }) => `${round(x.p50, 2)} / ${round(x.p99, 2)}`;
  const c2 = (r: any) =>
    s.c2.find(
      (c: any) => c.share === r.share && c.divisor === r.divisor && c.kernel === r.kernel && c.threads === r.threads,
    );
  const stages = (r: any) =>
    r.stagesMs
      ? Object.entries(r.stagesMs)
          .map(([k, v]) => `${k} ${round(v as number, 2)}`)
          .join(', ')
      : '';
  const out = [
    `### Scale: ${s.templates.toLocaleString('en')} templates (${s.distractors.toLocaleString('en')} distractors, ${s.matedProbes} real mates), quantised index`,
    table(
      ['measure', 'value'],
      [
        ['rows', s.streamed ? 'streamed (no float rows held; re-scored rows made again)' : 'held in memory'],
        ['distractors generated (worker threads, summed), s', round(s.generateSeconds, 1)],
        ['index build through GalleryIndex.add, s', round(s.buildSeconds, 1)],
        ['exact reference (streamed, every probe against every row), s', round(s.exactReferenceSeconds, 1)],
        ['process RSS after the build, MB', round(s.processRssAfterBuildMb, 0)],
        [
          'RSS added by the index, MB (bytes per template)',
          `${round(s.indexRssMb, 0)} (${round(s.indexBytesPerTemplate, 0)})`,
        ],
        [
          "the bench's scratch before the build (chunk buffers, generator states, held rows), MB",
          round(s.scratchMb, 0),
        ],
        ['peak RSS of the bench process, MB', round(s.peakRssMb, 0)],
        ...(s.check
          ? [
              [
                'SCALE_CHECK: top-1 rows or scores differing / rows made again differing',
                `${s.check.top1Differ} of ${s.check.probes} / ${s.check.rowsDiffer} of ${s.check.rowsChecked}`,
              ],
            ]
          : []),
      ],
    ),
    table(
      [
        'share : int8 budget',
        'c1 p50 / p99 ms',
        'c1 less exact reads p50 / p99 ms',
        'c1 CPU s (ms a search)',
        'stages, wall ms a search',
        'rank 1 kept (of exact)',
        `DIR / FPIR at ${s.runs[0]?.decision.threshold}, exact / index`,
        `DIR / FPIR at the open-set ${s.runs[0]?.openSet.threshold}, exact / index`,
        'c2, two indexes (two processes): p50 / p99 ms (CPU ms a search)',
        'c2, one index (two clients of one process): p50 / p99 ms (searches/s)',
      ],
      s.runs.map((r: any) => [
        (r.share ? `${r.share * 100}% : n/${r.divisor}` : `full scan : n/${r.divisor}`) +
          (r.kernel ? ` (int8 ${r.kernel})` : '') +
          (r.threads ? `, ${r.threads} thread${r.threads > 1 ? 's' : ''}` : ''),
        ms(r.c1),
        ms(r.c1WithoutReads),
        `${round(r.c1.cpuSeconds, 1)} (${round(r.cpuMsPerSearch ?? 0, 2)})`,
        stages(r),
        `${r.rank1.kept} of ${r.rank1.exact} (${pct(r.rank1.retention)})`,
        `${pct(r.decision.exact.dir)} / ${pct(r.decision.exact.fpir)}, ${pct(r.decision.index.dir)} / ${pct(r.decision.index.fpir)}`,
        `${pct(r.openSet.exact.dir)} / ${pct(r.openSet.exact.fpir)}, ${pct(r.openSet.index.dir)} / ${pct(r.openSet.index.fpir)}`,
        c2(r) ? `${ms(c2(r))}${c2(r).cpuMsPerSearch ? ` (${round(c2(r).cpuMsPerSearch, 2)})` : ''}` : 'not run',
        r.c2OneIndex ? `${ms(r.c2OneIndex)} (${round(r.c2OneIndex.searchesPerSecond, 0)})` : 'not run',
      ]),
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

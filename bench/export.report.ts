import { round, table } from './stats.js';
import type { Results } from './report.js';

const runs = (rs: { seconds: number }[]) => rs.map((r) => round(r.seconds, 2)).join(', ');
const peak = (rs: { peakRssMb: number; rssBeforeMb: number }[]) =>
  `${round(Math.max(...rs.map((r) => r.peakRssMb)), 0)} (${round(rs[0]!.rssBeforeMb, 0)} before)`;

/** The access-export bench's table (bench/export.bench.ts). */
export function renderExport(x: Results[string]): string {
  return [
    `### Access export: ${x.sightings.toLocaleString('en')} sightings in as many distinct ${x.photoWidth} x ${x.photoHeight} photos, timed to the last byte of the sealed file`,
    table(
      ['crops', 'median s', 'runs s', 'CPU s (median run)', 'ZIP MB', 'peak RSS MB'],
      [
        [
          'sealed at ingestion, read back',
          round(x.storedMedianSeconds, 2),
          runs(x.storedRuns),
          round(x.storedMedianCpuSeconds, 2),
          round(x.exportMb, 1),
          peak(x.storedRuns),
        ],
        // EXPORT_BENCH_OLD_RUNS=0 skips the old path (about 200 s a run).
        ...(x.madeRuns.length ? [made(x)] : []),
      ],
    ),
    `Ingestion's extra cost for the crops: ${round(x.ingestCropMsPerPhoto, 1)} ms per photo (decode once, crop, encode, seal).`,
  ].join('\n\n');
}

function made(x: Results[string]): (string | number)[] {
  return [
    'made from each photo at export (sightings ingested before)',
    round(x.madeMedianSeconds, 2),
    runs(x.madeRuns),
    round(x.madeMedianCpuSeconds, 2),
    round(x.madeRuns[0].mb, 1),
    peak(x.madeRuns),
  ];
}

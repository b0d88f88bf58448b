import { round, table } from './stats.js';
import type { Results } from './report.js';
import type { StageSummary } from './stages.js';

type Lat = { p50: number; p99: number; n?: number };
const lat = (x: Lat) => `${round(x.p50, 1)} / ${round(x.p99, 1)}`;
const warm = (w: number) => (w ? `warm-up ${w} passes` : 'no warm-up (before)');

/** The identify bench's tables (bench/identify.bench.ts): each measure with and without the engine warm-up. */
export function renderIdentify(id: Results[string]): string {
  type Alone = Lat & { warmUp: number; createMs: number; cpuP50: number; cpuP99: number; firstRoundMedian: number };
  type Server = {
    warmUp: number;
    workers: number;
    startSeconds: number;
    loadAverageAtStart: number;
    concurrency1at640: Lat;
    concurrency1large: Lat;
    at30rps640: Lat & {
      rps: number;
      total: number;
      non2xx: number;
      errors: number;
      max: number;
      stages?: StageSummary | null;
    };
    setting?: string;
    at30Server?: { cpuSeconds: number; wallSeconds: number };
    loadAverageAfter30?: number;
  };
  const alone = id.engineAlone640 as Alone[];
  const servers = id.servers as Server[];
  return [
    `### Identify end to end over HTTP (${id.gallery.toLocaleString('en')}-template gallery, ${servers[0]?.workers} engine workers, one-face probes)`,
    table(
      [
        'engine alone, in process, 640 px',
        'p50 / p99 ms',
        'CPU ms per photo p50 / p99',
        'first round median ms',
        'create ms',
      ],
      alone.map((a) => [
        warm(a.warmUp),
        lat(a),
        `${round(a.cpuP50, 1)} / ${round(a.cpuP99, 1)}`,
        round(a.firstRoundMedian, 1),
        round(a.createMs, 0),
      ]),
    ),
    table(
      [
        'server, in run order',
        'concurrency 1, 640 px, p50 / p99 ms',
        `concurrency 1, large probes (${id.largeProbeWidths.join(', ')} px), p50 / p99 ms`,
        '30 req/s open loop, 640 px, p50 / p99 / max ms (req/s, errors)',
        'start-up s',
        'load average',
      ],
      servers.map((s) => [
        s.setting ?? warm(s.warmUp),
        lat(s.concurrency1at640),
        lat(s.concurrency1large),
        `${lat(s.at30rps640)} / ${round(s.at30rps640.max, 1)} (${round(s.at30rps640.rps, 1)}, ${s.at30rps640.errors + s.at30rps640.non2xx})`,
        round(s.startSeconds, 1),
        round(s.loadAverageAtStart, 2),
      ]),
    ),
    ...servers.flatMap((s) => {
      const t = s.at30rps640.stages;
      if (!t) return [];
      const cpu = s.at30Server
        ? `; server CPU ${round(s.at30Server.cpuSeconds, 1)} s in ${round(s.at30Server.wallSeconds, 1)} s wall`
        : '';
      return [
        `30 req/s per stage, ${s.setting ?? warm(s.warmUp)} (end to end p50 / p99 ${lat(s.at30rps640)} ms${cpu}; load average ${round(s.loadAverageAfter30 ?? Number.NaN, 2)} after):`,
        table(
          [
            'stage',
            'p50 ms',
            'p99 ms',
            `mean in the slowest 1% (${t.tailP99n}) ms`,
            `mean in the slowest 5% (${t.tailP95n}) ms`,
          ],
          t.rows.map((r) => [
            r.stage,
            round(r.p50, 1),
            round(r.p99, 1),
            round(r.tailP99Mean, 1),
            round(r.tailP95Mean, 1),
          ]),
        ),
      ];
    }),
    `Bench process CPU: ${round(id.benchProcessCpuSeconds, 1)} s; load average at the end: ${(id.loadAverageAtEnd as number[]).map((x) => round(x, 2)).join(', ')}.`,
  ].join('\n\n');
}

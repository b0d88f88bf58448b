import { round, table } from './stats.js';
import { renderScale } from './scale/report.js';
import { renderExport } from './export.report.js';
import { renderIdentify } from './identify.report.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Results = Record<string, any>;

/** Benchmarks in run order; each is bench/<name>.bench.ts printing one JSON line. */
export const BENCHES = [
  'face.engine',
  'face.faceapi',
  'gallery',
  'rights',
  'export',
  'api',
  'identify',
  'cluster',
  'audit',
  'scale',
] as const;
/** Run only when named on the command line. */
export const OPT_IN: readonly string[] = ['scale'];

export function render(r: Results): string {
  const out: string[] = [];
  const v = r['face.engine'];
  const f = r['face.faceapi'];
  if (v) {
    out.push('### Face engine: per 640 px single-face image (deepface_small, one core)');
    out.push(
      table(
        ['stage', 'median ms'],
        [
          ...Object.entries(v.medianMs as Record<string, number>).map(([k, ms]) => [
            k === 'align' || k === 'embed' ? `${k} (per face)` : k,
            round(ms, 2),
          ]),
          ['p99 end to end', round(v.p99TotalMs, 1)],
          ['model load (once per process)', round(v.modelLoadMs, 0)],
        ],
      ),
    );
  }
  if (v?.landmarkPasses) {
    const lp = v.landmarkPasses as Record<string, number>;
    out.push('### Face engine before and after issue 14 (second landmark pass), same images, interleaved, one core');
    out.push(
      table(
        ['pipeline', 'median ms/image', 'p99 ms/image'],
        [
          ['one landmark pass (before issue 14)', round(lp.onePassMedianMs!, 2), round(lp.onePassP99Ms!, 1)],
          ['two landmark passes (default)', round(lp.twoPassesMedianMs!, 2), round(lp.twoPassesP99Ms!, 1)],
          ['ratio of medians', round(lp.ratio!, 3), ''],
        ],
      ),
    );
  }
  if (v || f) {
    out.push('### Throughput, same images, same run');
    const rows: (string | number)[][] = [];
    if (v) {
      rows.push([
        v.pipeline,
        1,
        round(v.imagesPerSecond.workers1, 1),
        round(v.medianMs.total, 1),
        round(v.peakRssMb, 0),
      ]);
      rows.push([v.pipeline, 2, round(v.imagesPerSecond.workers2, 1), '', '']);
    }
    if (f)
      rows.push([
        f.pipeline,
        1,
        round(f.imagesPerSecond.workers1, 1),
        round(f.medianMs.total, 1),
        round(f.peakRssMb, 0),
      ]);
    out.push(table(['pipeline', 'worker threads', 'images/s', 'median ms/image', 'peak RSS MB'], rows));
    if (v && f) {
      out.push(
        `Veil vs face-api: ${round(v.imagesPerSecond.workers1 / f.imagesPerSecond.workers1, 1)}x on one thread each; ` +
          `${round(v.imagesPerSecond.workers2 / f.imagesPerSecond.workers1, 1)}x with Veil's 2 workers (face-api's tfjs-wasm runs single-threaded under Node).`,
      );
    }
  }
  const g = r['gallery'];
  if (g) {
    out.push('### Gallery (SQLite, one engine in process, one core)');
    out.push(
      table(
        ['measure', 'value'],
        [
          [`enrollments/s (consent record + enroll, ${g.enrolled} people)`, round(g.enrollPerSec, 1)],
          ...Object.entries(g.identifyEndToEndMs as Record<string, { p50: number; p99: number }>).map(([n, x]) => [
            `identify end to end at ${Number(n).toLocaleString('en')} templates, p50 / p99 ms`,
            `${round(x.p50, 1)} / ${round(x.p99, 1)}`,
          ]),
          ...Object.entries(
            g.indexSearchMs as Record<
              string,
              { js?: { p50: number; p99: number }; native: { p50: number; p99: number } }
            >,
          ).flatMap(([n, x]) => [
            [
              `index search alone at ${Number(n).toLocaleString('en')}, native exact (SIMD), p50 / p99 ms`,
              `${round(x.native.p50, 2)} / ${round(x.native.p99, 2)}`,
            ],
            ...(x.js
              ? [
                  [
                    `index search alone at ${Number(n).toLocaleString('en')}, JavaScript exact, p50 / p99 ms`,
                    `${round(x.js.p50, 2)} / ${round(x.js.p99, 2)}`,
                  ],
                ]
              : []),
          ]),
          [
            `ingestion of ${g.ingest.photos} group photos (${g.ingest.faces} faces), photos/s`,
            round(g.ingest.photosPerSec, 1),
          ],
        ],
      ),
    );
  }
  const rt = r['rights'];
  if (rt) {
    out.push(
      `### Rights: a subject with ${rt.templatesOfSubject} templates and ${rt.sightings.toLocaleString('en')} sightings in a ${rt.gallery.toLocaleString('en')}-template gallery`,
    );
    out.push(
      table(
        ['measure', 'seconds'],
        [
          [
            'erasure, complete (index, rows, files, artifacts, key shredded, certificate with proofs)',
            round(rt.erasureSeconds, 3),
          ],
          [
            `access export (ZIP of ${round(rt.accessZipMb, 1)} MB with one face crop per sighting)`,
            round(rt.accessSeconds, 2),
          ],
          [
            'restart with the index rebuilt from the store (every template decrypted)',
            round(rt.restartWithIndexRebuildSeconds, 2),
          ],
        ],
      ),
    );
  }
  if (r['export']) out.push(renderExport(r['export']));
  const api = r['api'];
  if (api) {
    out.push(
      `### HTTP API under load (loopback, ${api.gallery.toLocaleString('en')}-template gallery, ${api.workers} engine workers, ${api.seconds} s per run)`,
    );
    const row = (
      name: string,
      x: { rps: number; p50: number; p99: number; errors: number; non2xx: number; timeouts?: number },
    ) => [name, round(x.rps, 1), round(x.p50, 1), round(x.p99, 1), x.errors + x.non2xx + (x.timeouts ?? 0)];
    out.push(
      table(
        ['load', 'requests/s', 'p50 ms', 'p99 ms', 'errors'],
        [
          row('GET /healthz, 10 connections', api.healthz),
          row('POST /v1/identify, 8 connections (saturated)', api.identifySaturated),
          row('POST /v1/identify at 30 req/s, open loop', api.identifyAt30),
        ],
      ),
    );
  }
  if (r['identify']) out.push(renderIdentify(r['identify']));
  const cl = r['cluster'];
  if (cl) out.push(renderCluster(cl));
  const a = r['audit'];
  if (a) {
    out.push(`### Audit log (SQLite, ${a.entries.toLocaleString('en')} entries, a signed head every 1,000)`);
    out.push(
      table(
        ['measure', 'value'],
        [
          ['appends/s, one entry per transaction', round(a.appendPerSecond.singlePerTransaction, 0)],
          ['appends/s, batches of 1,000 per transaction', round(a.appendPerSecond.batched1000, 0)],
          ['batched vs single', `${round(a.appendPerSecond.batched1000 / a.appendPerSecond.singlePerTransaction, 1)}x`],
          ['inclusion proof at full size, median ms', round(a.proofMs.median, 2)],
          ['inclusion proof at full size, p99 ms', round(a.proofMs.p99, 2)],
          ['export to JSON lines, s', round(a.exportSeconds, 1)],
          ['standalone verification of the export, s', round(a.verifySeconds, 1)],
          ['database size, MB', round(a.dbMb, 0)],
        ],
      ),
    );
  }
  if (r['scale']) out.push(renderScale(r['scale']));
  return out.join('\n\n');
}

function renderCluster(cl: Results): string {
  const out: string[] = [];
  type Run = {
    engine: string;
    processes: number;
    workersPerProcess: number;
    rounds?: number;
    identify: { rps: number; p50: number; p99: number; errors: number };
    enroll: { perSecond: number; errors: number };
    propagation: null | Record<string, { median?: number; max?: number }>;
    peakRssMb: number[];
  };
  const runs = cl.runs as Run[];
  out.push(
    `### Server mode: SQLite vs PostgreSQL, 1 vs 2 API processes (same 2 cores, ${cl.gallery.toLocaleString('en')}-template gallery, ${cl.connections} identify connections for ${cl.identifySeconds} s, 4 concurrent enrollers for ${cl.enrollSeconds} s; the topologies alternate over ${runs[0]?.rounds ?? 1} rounds each, medians shown)`,
  );
  out.push(
    table(
      [
        'database',
        'API processes x engine workers',
        'identify req/s',
        'identify p50 / p99 ms',
        'enrollments/s',
        'errors',
        'peak RSS per process MB',
      ],
      runs.map((x) => [
        x.engine,
        `${x.processes} x ${x.workersPerProcess}`,
        round(x.identify.rps, 1),
        `${x.identify.p50} / ${x.identify.p99}`,
        round(x.enroll.perSecond, 1),
        x.identify.errors + x.enroll.errors,
        x.peakRssMb.map((m) => round(m, 0)).join(' + '),
      ]),
    ),
  );
  const find = (e: string, p: number) => runs.find((x) => x.engine === e && x.processes === p);
  const pct = (a: number, b: number) => `${a >= b ? '+' : ''}${round((a / b - 1) * 100, 1)}%`;
  const lines: string[] = [];
  for (const e of ['sqlite', 'postgres']) {
    const one = find(e, 1);
    const two = find(e, 2);
    if (one && two)
      lines.push(
        `${e}: 2 processes x 1 worker vs 1 process x 2 workers: identify ${pct(two.identify.rps, one.identify.rps)}, enroll ${pct(two.enroll.perSecond, one.enroll.perSecond)}`,
      );
  }
  for (const p of [1, 2]) {
    const s = find('sqlite', p);
    const g = find('postgres', p);
    if (s && g)
      lines.push(
        `PostgreSQL vs SQLite, ${p} process(es): identify ${pct(g.identify.rps, s.identify.rps)}, enroll ${pct(g.enroll.perSecond, s.enroll.perSecond)}`,
      );
  }
  out.push(lines.map((l) => `- ${l}`).join('\n'));
  const props = runs.filter((x) => x.propagation);
  if (props.length) {
    out.push(
      'Propagation between the two processes (each time includes one identify round trip on the other process, whose median is the last column):',
    );
    out.push(
      table(
        [
          'database',
          'rounds',
          'enrolled via A -> matches via B, median / max ms',
          'erased via A -> no match via B, median / max ms',
          'identify median ms',
        ],
        props.map((x) => {
          const p = x.propagation as Record<string, { median: number; max: number; p99: number }> & { rounds: unknown };
          return [
            x.engine,
            String(p.rounds),
            `${round(p['enrollMs']!.median, 0)} / ${round(p['enrollMs']!.max, 0)}`,
            `${round(p['erasureMs']!.median, 0)} / ${round(p['erasureMs']!.max, 0)}`,
            round(p['identifyMs']!.median, 0),
          ];
        }),
      ),
    );
  }
  return out.join('\n\n');
}

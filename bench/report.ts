import { round, table } from './stats.js';

/* eslint-disable @typescript-eslint/no-explicit-any */
export type Results = Record<string, any>;

/** Benchmarks in run order; each is bench/<name>.bench.ts printing one JSON line. */
export const BENCHES = ['face.engine', 'face.faceapi', 'gallery', 'rights', 'api', 'audit'] as const;

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
          ...Object.entries(v.medianMs as Record<string, number>).map(([k, ms]) => [k === 'align' || k === 'embed' ? `${k} (per face)` : k, round(ms, 2)]),
          ['p99 end to end', round(v.p99TotalMs, 1)],
          ['model load (once per process)', round(v.modelLoadMs, 0)],
        ],
      ),
    );
  }
  if (v || f) {
    out.push('### Throughput, same images, same run');
    const rows: (string | number)[][] = [];
    if (v) {
      rows.push([v.pipeline, 1, round(v.imagesPerSecond.workers1, 1), round(v.medianMs.total, 1), round(v.peakRssMb, 0)]);
      rows.push([v.pipeline, 2, round(v.imagesPerSecond.workers2, 1), '', '']);
    }
    if (f) rows.push([f.pipeline, 1, round(f.imagesPerSecond.workers1, 1), round(f.medianMs.total, 1), round(f.peakRssMb, 0)]);
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
          ...Object.entries(g.identifyEndToEndMs as Record<string, { p50: number; p99: number }>).map(([n, x]) => [`identify end to end at ${Number(n).toLocaleString('en')} templates, p50 / p99 ms`, `${round(x.p50, 1)} / ${round(x.p99, 1)}`]),
          ...Object.entries(g.indexSearchMs as Record<string, { js?: { p50: number; p99: number }; native: { p50: number; p99: number } }>).flatMap(([n, x]) => [
            [`index search alone at ${Number(n).toLocaleString('en')}, native exact (SIMD), p50 / p99 ms`, `${round(x.native.p50, 2)} / ${round(x.native.p99, 2)}`],
            ...(x.js ? [[`index search alone at ${Number(n).toLocaleString('en')}, JavaScript exact, p50 / p99 ms`, `${round(x.js.p50, 2)} / ${round(x.js.p99, 2)}`]] : []),
          ]),
          [`ingestion of ${g.ingest.photos} group photos (${g.ingest.faces} faces), photos/s`, round(g.ingest.photosPerSec, 1)],
        ],
      ),
    );
  }
  const rt = r['rights'];
  if (rt) {
    out.push(`### Rights: a subject with ${rt.templatesOfSubject} templates and ${rt.sightings.toLocaleString('en')} sightings in a ${rt.gallery.toLocaleString('en')}-template gallery`);
    out.push(
      table(
        ['measure', 'seconds'],
        [
          ['erasure, complete (index, rows, files, artifacts, key shredded, certificate with proofs)', round(rt.erasureSeconds, 3)],
          [`access export (ZIP of ${round(rt.accessZipMb, 1)} MB with one face crop per sighting)`, round(rt.accessSeconds, 2)],
          ['restart with the index rebuilt from the store (every template decrypted)', round(rt.restartWithIndexRebuildSeconds, 2)],
        ],
      ),
    );
  }
  const api = r['api'];
  if (api) {
    out.push(`### HTTP API under load (loopback, ${api.gallery.toLocaleString('en')}-template gallery, ${api.workers} engine workers, ${api.seconds} s per run)`);
    const row = (name: string, x: { rps: number; p50: number; p99: number; errors: number; non2xx: number; timeouts: number }) => [name, round(x.rps, 1), x.p50, x.p99, x.errors + x.non2xx + x.timeouts];
    out.push(table(['load', 'requests/s', 'p50 ms', 'p99 ms', 'errors'], [row('GET /healthz, 10 connections', api.healthz), row('POST /v1/identify, 8 connections (saturated)', api.identifySaturated), row('POST /v1/identify at 30 req/s', api.identifyAt30)]));
  }
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
  return out.join('\n\n');
}

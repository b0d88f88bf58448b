// False-rejection rate of the liveness check on genuine photos (../shared/faces and lfw-dev).
// Every photo here is a genuine capture of a person (or a scan of one); none is a presentation attack,
// so this measures how often real people would be asked to retake, and nothing about spoofs.
//   node --import tsx scripts/accuracy/liveness.ts [--json out.json]
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FaceEngine } from '../../src/face/engine.js';
import { LIVENESS_THRESHOLD } from '../../src/face/liveness.js';
import { FACES } from '../../support/faces.js';

const LFW = join(FACES, '..', 'datasets', 'lfw-dev', 'images');

function images(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...images(p));
    else if (/\.(jpe?g|png|webp|gif|tiff?)$/i.test(name)) out.push(p);
  }
  return out;
}

interface Row {
  file: string;
  faces: number;
  /** Score of the largest face (the one a selfie check judges). */
  score: number | null;
  seconds: number;
}

async function measure(engine: FaceEngine, set: string, files: string[]): Promise<Row[]> {
  const rows: Row[] = [];
  for (const f of files) {
    const t0 = performance.now();
    try {
      const r = await engine.detect(readFileSync(f), { liveness: true });
      const largest = [...r.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
      rows.push({
        file: relative(set, f),
        faces: r.faces.length,
        score: largest?.liveness?.score ?? null,
        seconds: (performance.now() - t0) / 1000,
      });
    } catch {
      rows.push({ file: relative(set, f), faces: 0, score: null, seconds: 0 });
    }
  }
  return rows;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

function summary(name: string, rows: Row[]) {
  const scored = rows.filter((r) => r.score !== null).map((r) => r.score!);
  const rejected = scored.filter((s) => s < LIVENESS_THRESHOLD).length;
  return {
    set: name,
    photos: rows.length,
    withFace: scored.length,
    rejected,
    frr: scored.length ? rejected / scored.length : 0,
    p05: quantile(scored, 0.05),
    median: quantile(scored, 0.5),
    // Other operating points, for the record only: the decision uses LIVENESS_THRESHOLD.
    frrAt: Object.fromEntries(
      [0.1, 0.3, 0.5, 0.6, 0.9].map((t) => [t, scored.filter((s) => s < t).length / Math.max(1, scored.length)]),
    ),
  };
}

const engine = await FaceEngine.create();
const shared = await measure(engine, FACES, images(FACES));
const lfw = await measure(engine, LFW, images(LFW));
const report = {
  threshold: LIVENESS_THRESHOLD,
  sets: [summary('shared faces', shared), summary('lfw-dev', lfw), summary('all', [...shared, ...lfw])],
  lowest: [...shared, ...lfw]
    .filter((r) => r.score !== null)
    .sort((a, b) => a.score! - b.score!)
    .slice(0, 15),
};
for (const s of report.sets) {
  const pct = (x: number) => (100 * x).toFixed(2) + '%';
  console.log(
    `${s.set}: ${s.photos} photos, ${s.withFace} with a face; rejected ${s.rejected} -> FRR ${pct(s.frr)} at ${LIVENESS_THRESHOLD}` +
      ` (p05 score ${s.p05.toFixed(3)}, median ${s.median.toFixed(3)}); FRR at ` +
      Object.entries(s.frrAt)
        .map(([t, v]) => `${t}: ${pct(v)}`)
        .join(', '),
  );
}
console.log('lowest scores:', report.lowest.map((r) => `${r.file} ${r.score!.toFixed(3)}`).join('; '));
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1]!, JSON.stringify(report, null, 2) + '\n');

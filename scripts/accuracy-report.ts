// Measures verification accuracy of the default engine on ../shared/faces and prints the tables
// for docs/accuracy.md. Run: npm run accuracy
import { existsSync, readFileSync } from 'node:fs';
import { lfwReport } from './accuracy/lfw-report.js';
import { LFW_DEV } from './accuracy/lfw.js';
import { FaceEngine } from '../src/face/engine.js';
import { cosine } from '../src/face/embedder.js';
import { calibrate, ratesAt } from '../src/face/calibration.js';
import { DEFAULT_CALIBRATION } from '../src/face/calibration.default.js';

const SETS = ['faceapi_bbt', 'deepface_small', 'compreface', 'face_recognition'];
const root = process.argv[2] ?? new URL('../../shared/faces/', import.meta.url).pathname;
const engine = await FaceEngine.create();
const G: number[] = [];
const I: number[] = [];
const rows: string[] = [];
const noFace: string[] = [];
for (const set of SETS) {
  const dir = `${root}/${set}/`;
  const lines = readFileSync(dir + 'all_pairs.csv', 'utf8')
    .trim()
    .split('\n')
    .slice(1);
  const cache = new Map<string, Float32Array | null>();
  const emb = async (f: string) => {
    if (!cache.has(f)) {
      const r = await engine.analyze(readFileSync(dir + f));
      cache.set(f, r.faces[0]?.embedding ?? null);
      if (!r.faces.length) noFace.push(`${set}/${f}`);
    }
    return cache.get(f)!;
  };
  const g: number[] = [];
  const im: number[] = [];
  let skipped = 0;
  for (const l of lines) {
    const [a, b, same] = l.split(',');
    // face_recognition/obama holds one photo at four resolutions: count it once (MANIFEST).
    if (set === 'face_recognition' && [a, b].some((f) => /ex_obama-(480p|720p|1080p)/.test(f!))) continue;
    const [ea, eb] = [await emb(a!), await emb(b!)];
    if (!ea || !eb) {
      skipped++;
      continue;
    }
    (same === '1' ? g : im).push(cosine(ea, eb));
  }
  const c = calibrate(engine.modelId, g, im, 1e-3);
  const at = ratesAt(g, im, DEFAULT_CALIBRATION.threshold);
  rows.push(
    `| ${set} | ${g.length} | ${im.length} | ${skipped} | ${c.auc.toFixed(4)} | ${(c.eer.fmr * 100).toFixed(2)}% | ${(at.fmr * 100).toFixed(2)}% | ${(at.fnmr * 100).toFixed(2)}% |`,
  );
  G.push(...g);
  I.push(...im);
}
const all = calibrate(engine.modelId, G, I, 1e-3);
const at = ratesAt(G, I, DEFAULT_CALIBRATION.threshold);
const strict = ratesAt(G, I, DEFAULT_CALIBRATION.strictThreshold);
rows.push(
  `| **all** | ${G.length} | ${I.length} | | ${all.auc.toFixed(4)} | ${(all.eer.fmr * 100).toFixed(2)}% | ${(at.fmr * 100).toFixed(2)}% | ${(at.fnmr * 100).toFixed(2)}% |`,
);
console.log(
  '| set | same pairs | different pairs | pairs without a face | ROC AUC | EER | FMR @ threshold | FNMR @ threshold |',
);
console.log('|---|---|---|---|---|---|---|---|');
console.log(rows.join('\n'));
console.log(
  `\nmodel ${engine.modelId}; threshold ${DEFAULT_CALIBRATION.threshold}; calibrated operating point for FMR <= 1e-3: ${all.operatingPoint.threshold}`,
);
console.log(
  `impostor scores: mean ${all.impostorMean.toFixed(4)}, std ${all.impostorStd.toFixed(4)}, max ${Math.max(...I).toFixed(4)}; genuine min ${Math.min(...G).toFixed(4)}`,
);
console.log(
  `strict threshold ${DEFAULT_CALIBRATION.strictThreshold}: FMR ${(strict.fmr * 100).toFixed(3)}%, FNMR ${(strict.fnmr * 100).toFixed(2)}%`,
);
console.log(`images with no detected face: ${noFace.join(', ') || 'none'}`);

// lfw-dev (LFW folds 7-10): verification, open-set identification and the held-out check of the open-set rule.
// LFW_CACHE=<path> keeps the embeddings between runs of the same engine (<path>.json and <path>.bin).
if (existsSync(LFW_DEV))
  await lfwReport(engine, { cache: process.env.LFW_CACHE, minimum: DEFAULT_CALIBRATION.threshold });
else console.log(`\nlfw-dev not found at ${LFW_DEV}: its tables are skipped.`);

// Calibration of the enrollment gate on lfw-dev: does a photo's template find its owner again?
// For every person with several photos, each photo's template is compared with the person's other
// photos; a template "misses" when most of those comparisons fall below the identification
// threshold of a ~500-person gallery (per-comparison false-match rate 1% / 500, read off the
// impostor scores of the same run). The gate should refuse photos that miss, and only those.
//
//   node --import tsx scripts/accuracy/gate-lfw.ts [--cache FILE]
//
// Never run by `npm test` (lfw-dev is for measurement only). The engine pass is cached (FILE,
// default /tmp/veil-gate-lfw.json) so the analysis can be rerun without the engine.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../../src/face/engine.js';
import type { FaceQuality } from '../../src/face/quality.js';
import { assessQuality, DEFAULT_ENROLLMENT_POLICY } from '../../src/face/quality.js';
import { ENROLLMENT_GATES, chooseEnrollmentFace, gateVerdict } from '../../src/gallery/enrollment-gate.js';
import type { Box } from '../../src/face/geometry.js';
import { identityOf, loadLfwDev } from './lfw.js';
import { openSetThreshold } from '../../src/gallery/open-set.js';
import { DEFAULT_IMPOSTOR_TAIL } from '../../src/face/calibration.default.js';

interface Face {
  box: Box;
  score: number;
  quality: FaceQuality;
  e: number[];
}
type Cache = Record<string, Face[]>;

const cacheArg = process.argv.indexOf('--cache');
const CACHE = cacheArg > 0 ? process.argv[cacheArg + 1]! : '/tmp/veil-gate-lfw.json';
const lfw = loadLfwDev();

async function analyse(): Promise<Cache> {
  if (existsSync(CACHE)) return JSON.parse(readFileSync(CACHE, 'utf8')) as Cache;
  const engine = await FaceEngine.create();
  const out: Cache = {};
  let n = 0;
  for (const img of lfw.images) {
    const r = await engine.analyze(readFileSync(join(lfw.root, 'images', img)));
    out[img] = r.faces.map((f) => ({
      box: f.box,
      score: f.score,
      quality: f.quality,
      e: Array.from(f.embedding, (x) => Math.round(x * 1e5) / 1e5),
    }));
    if (++n % 250 === 0) process.stderr.write(`${n}/${lfw.images.length}\n`);
  }
  writeFileSync(CACHE, JSON.stringify(out));
  return out;
}

const cos = (a: readonly number[], b: readonly number[]) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

const cache = await analyse();
// The face LFW means is the centred one (the engine lists faces nearest the centre first).
const main = new Map<string, Face>();
for (const [img, faces] of Object.entries(cache)) if (faces[0]) main.set(img, faces[0]);
const byPerson = new Map<string, string[]>();
for (const img of lfw.images) byPerson.set(identityOf(img), [...(byPerson.get(identityOf(img)) ?? []), img]);

// Threshold: the per-comparison FMR of a 500-template gallery at FPIR 1%, from this run's impostors.
const imgs = [...main.keys()];
const imp: number[] = [];
for (let i = 0; i < imgs.length; i += 1)
  for (let j = i + 1; j < imgs.length; j += 3)
    if (identityOf(imgs[i]!) !== identityOf(imgs[j]!)) imp.push(cos(main.get(imgs[i]!)!.e, main.get(imgs[j]!)!.e));
imp.sort((a, b) => b - a);
const T = imp[Math.floor((0.01 / 500) * imp.length)]!;
console.log(`impostor comparisons ${imp.length}, threshold at FMR 2e-5: ${T.toFixed(4)}\n`);

// Per photo of a person with several photos: the share of their other photos its template misses.
interface Row {
  img: string;
  q: FaceQuality;
  faces: Face[];
  miss: number;
  fails: boolean;
}
const rows: Row[] = [];
for (const [, ims] of byPerson) {
  const ok = ims.filter((i) => main.has(i));
  if (ok.length < 2) continue;
  for (const a of ok) {
    const others = ok.filter((b) => b !== a);
    const missed = others.filter((b) => cos(main.get(a)!.e, main.get(b)!.e) < T).length / others.length;
    rows.push({ img: a, q: main.get(a)!.quality, faces: cache[a]!, miss: missed, fails: missed > 0.5 });
  }
}
const base = rows.filter((r) => r.fails).length / rows.length;
console.log(
  `photos of people with several photos: ${rows.length}; templates missing most of their owner's other photos: ${pct(base)}\n`,
);

function curve(name: string, get: (q: FaceQuality) => number, edges: number[]): void {
  console.log(`| ${name} | photos | template misses owner |\n| --- | --- | --- |`);
  for (let i = 0; i < edges.length - 1; i++) {
    const inBin = rows.filter((r) => get(r.q) >= edges[i]! && get(r.q) < edges[i + 1]!);
    if (inBin.length)
      console.log(
        `| ${edges[i]}-${edges[i + 1]} | ${inBin.length} | ${pct(inBin.filter((r) => r.fails).length / inBin.length)} |`,
      );
  }
  console.log('');
}
curve('sharpness', (q) => q.sharpness, [0, 20, 30, 40, 50, 60, 80, 120, 200, 400, 1e9]);
curve('face height px', (q) => q.faceSize, [0, 48, 64, 80, 96, 112, 128, 1e9]);
curve('eye distance px', (q) => q.eyeDistance, [0, 16, 20, 24, 28, 32, 40, 1e9]);
curve('detector score', (q) => q.detectorScore, [0, 0.6, 0.7, 0.8, 0.9, 0.95, 1.01]);
curve('|yaw| deg', (q) => Math.abs(q.yaw), [0, 10, 20, 30, 40, 50, 60, 90]);
curve('|pitch| deg', (q) => Math.abs(q.pitch), [0, 10, 20, 30, 35, 45, 90]);
curve('|roll| deg', (q) => Math.abs(q.roll), [0, 10, 20, 30, 45, 90]);

// The gates: today's (fixed minimums, one face only) and the calibrated policies.
type Gate = (faces: Face[]) => boolean;
const today: Gate = (faces) =>
  faces.length === 1 && assessQuality(faces[0]!.quality, DEFAULT_ENROLLMENT_POLICY).acceptable;
const policy =
  (p: keyof typeof ENROLLMENT_GATES): Gate =>
  (faces) => {
    const c = chooseEnrollmentFace(faces);
    // The face LFW means is faces[0]; enrolling another one would be the wrong person.
    return c.kind === 'face' && c.index === 0 && gateVerdict(faces[0]!.quality, ENROLLMENT_GATES[p]).acceptable;
  };
const gates: [string, Gate][] = [
  ['today', today],
  ['import', policy('import')],
  ['selfie', policy('selfie')],
];
console.log(
  '| gate | photos accepted | accepted templates that miss their owner | refused templates that would have worked | people not enrollable from their first 3 photos |',
);
console.log('| --- | --- | --- | --- | --- |');
const people = [...byPerson].filter(([, ims]) => ims.filter((i) => main.has(i)).length >= 2);
for (const [name, g] of gates) {
  const acc = rows.filter((r) => g(r.faces));
  const ref = rows.filter((r) => !g(r.faces));
  const stuck = people.filter(([, ims]) => !ims.slice(0, 3).some((i) => cache[i] && g(cache[i]!))).length;
  console.log(
    `| ${name} | ${acc.length}/${rows.length} (${pct(acc.length / rows.length)}) | ${acc.filter((r) => r.fails).length} (${((100 * acc.filter((r) => r.fails).length) / Math.max(1, acc.length)).toFixed(2)}%) | ${ref.filter((r) => !r.fails).length} of ${ref.length} | ${stuck}/${people.length} (${pct(stuck / people.length)}) |`,
  );
}

// Why each gate refuses (a photo can have several quality reasons).
console.log(
  '\n| gate | refused: several faces, none dominant | dominant face is not the person | quality reasons |\n| --- | --- | --- | --- |',
);
for (const p of ['import', 'selfie'] as const) {
  let ambiguous = 0;
  let wrong = 0;
  const reasons = new Map<string, number>();
  for (const r of rows) {
    const c = chooseEnrollmentFace(r.faces);
    if (c.kind !== 'face') ambiguous++;
    else if (c.index !== 0) wrong++;
    else
      for (const x of gateVerdict(r.q, ENROLLMENT_GATES[p]).reasons)
        reasons.set(x.code, (reasons.get(x.code) ?? 0) + 1);
  }
  console.log(`| ${p} | ${ambiguous} | ${wrong} | ${[...reasons].map(([k, n]) => `${k} ${n}`).join(', ')} |`);
}
const multi = rows.filter((r) => r.faces.length > 1);
console.log(
  `\nphotos with several faces: ${multi.length}; heights of the other faces relative to the main one (median): ${multi
    .map((r) => Math.max(...r.faces.slice(1).map((f) => f.box.height)) / r.faces[0]!.box.height)
    .sort((a, b) => a - b)
    [Math.floor(multi.length / 2)]?.toFixed(2)}`,
);
const hist = [0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 10];
for (let i = 0; i < hist.length - 1; i++) {
  const n = multi.filter((r) => {
    const x = Math.max(...r.faces.slice(1).map((f) => f.box.height)) / r.faces[0]!.box.height;
    return x >= (hist[i - 1] ?? 0) && x < hist[i]!;
  }).length;
  console.log(`  largest other face / main face height < ${hist[i]}: ${n}`);
}

// Identification with the gallery as an operator builds it: each person enrolled from their first
// photo the gate accepts (a refused photo is replaced by the next one), against the issue's protocol
// (the first photo, gated or not). Probes are never gated: a search takes the photo it is given.
function openSetWith(name: string, pick: (ims: string[]) => string | undefined): void {
  const gallery: { id: string; img: string }[] = [];
  let none = 0;
  for (const [id, ims] of people) {
    const img = pick(ims.filter((i) => main.has(i)));
    if (img) gallery.push({ id, img });
    else none++;
  }
  const enrolled = new Set(gallery.map((g) => g.img));
  const t = openSetThreshold({ gallerySize: gallery.length, fpir: 0.01, tail: DEFAULT_IMPOSTOR_TAIL, minimum: 0.41 });
  let hits = 0,
    mated = 0,
    falsePos = 0,
    nonMated = 0;
  const best = (img: string, skip?: string) => {
    let b = -2,
      bid = '';
    for (const g of gallery) {
      if (g.id === skip) continue;
      const x = cos(main.get(img)!.e, main.get(g.img)!.e);
      if (x > b) [b, bid] = [x, g.id];
    }
    return { b, bid };
  };
  for (const [id, ims] of byPerson) {
    const ok = ims.filter((i) => main.has(i));
    const inGallery = gallery.some((g) => g.id === id);
    for (const img of ok) {
      if (enrolled.has(img)) continue;
      if (inGallery) {
        mated++;
        const r = best(img);
        if (r.bid === id && r.b >= t) hits++;
      } else if (ok.length === 1) {
        nonMated++;
        if (best(img).b >= t) falsePos++;
      }
    }
  }
  console.log(
    `| ${name} | ${gallery.length} (${none} without an accepted photo) | ${t.toFixed(4)} | ${mated} | ${pct(hits / mated)} | ${nonMated} | ${pct(falsePos / nonMated)} |`,
  );
}
console.log(
  '\n| gallery (people with several photos) | people enrolled | threshold (FPIR 1% rule) | mated probes | DIR (rank 1) | non-mated probes | FPIR |\n| --- | --- | --- | --- | --- | --- | --- |',
);
openSetWith('first photo (the issue protocol)', (ims) => ims[0]);
for (const [name, g] of gates.slice(1))
  openSetWith(`first photo the ${name} gate accepts`, (ims) => ims.find((i) => g(cache[i]!)));

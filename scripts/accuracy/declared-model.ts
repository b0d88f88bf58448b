// Bring-your-own-model check: the shipped embedder declared through VEIL_MODELS's path, once with its
// own parameters (must reproduce the built-in templates) and once with the wrong channel order (RGB
// instead of BGR: must lose accuracy), on the shared pairs and on lfw-dev (LFW's protocol: 4 folds,
// threshold chosen on the other three). Never read by `npm test`.
//   node --import tsx scripts/accuracy/declared-model.ts [--json out.json]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../../src/face/engine.js';
import { cosine } from '../../src/face/embedder.js';
import { rocAuc } from '../../src/face/calibration.js';
import { SHIPPED_EMBEDDER, type EmbedderDeclaration } from '../../src/face/model-declaration.js';
import { FACES, pairs } from '../../support/faces.js';

const LFW = join(FACES, '..', 'datasets', 'lfw-dev');

interface Pair {
  a: string;
  b: string;
  same: boolean;
}

function lfwFolds(): Pair[][] {
  const lines = readFileSync(join(LFW, 'pairs.txt'), 'utf8').trim().split('\n');
  const [n, per] = lines[0]!.split('\t').map(Number) as [number, number];
  const img = (name: string, i: string) => join(LFW, 'images', name, `${name}_${i.padStart(4, '0')}.jpg`);
  const folds: Pair[][] = [];
  for (let f = 0, at = 1; f < n; f++) {
    const fold: Pair[] = [];
    for (let k = 0; k < 2 * per; k++, at++) {
      const p = lines[at]!.trim().split('\t');
      fold.push(
        p.length === 3
          ? { a: img(p[0]!, p[1]!), b: img(p[0]!, p[2]!), same: true }
          : { a: img(p[0]!, p[1]!), b: img(p[2]!, p[3]!), same: false },
      );
    }
    folds.push(fold);
  }
  return folds;
}

type Scored = { s: number; same: boolean };

const accuracyAt = (xs: Scored[], t: number) => xs.filter((x) => x.s >= t === x.same).length / xs.length;

function bestThreshold(xs: Scored[]): number {
  let best = -1,
    bestAcc = -1;
  for (const x of xs) {
    const a = accuracyAt(xs, x.s);
    if (a > bestAcc) [best, bestAcc] = [x.s, a];
  }
  return best;
}

/** LFW protocol: each fold scored at the threshold that is best on the others. */
function foldAccuracy(folds: Scored[][]): { mean: number; std: number } {
  const accs = folds.map((f, i) => accuracyAt(f, bestThreshold(folds.filter((_, j) => j !== i).flat())));
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  return { mean, std: Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length) };
}

/** True-accept rate at the threshold where the impostor sample's false-accept rate is <= far. */
function tarAt(xs: Scored[], far: number): number {
  const imp = xs
    .filter((x) => !x.same)
    .map((x) => x.s)
    .sort((a, b) => b - a);
  const t = imp[Math.floor(far * imp.length)] ?? 1;
  const gen = xs.filter((x) => x.same);
  return gen.filter((x) => x.s > t).length / gen.length;
}

async function scorer(decl: EmbedderDeclaration | undefined) {
  const engine = await FaceEngine.create(decl ? { embedder: decl } : {});
  const cache = new Map<string, Float32Array | null>();
  const emb = async (p: string) => {
    if (!cache.has(p)) {
      const r = await engine.analyze(readFileSync(p));
      // The engine's first face is the one nearest the centre: LFW's person, not a face behind them.
      cache.set(p, r.faces[0]?.embedding ?? null);
    }
    return cache.get(p)!;
  };
  return {
    engine,
    emb,
    /** Pairs whose photos have no face score -1 (a miss), as LFW's protocol counts them. */
    score: async (ps: Pair[]): Promise<Scored[]> => {
      const out: Scored[] = [];
      for (const p of ps) {
        const [a, b] = [await emb(p.a), await emb(p.b)];
        out.push({ s: a && b ? cosine(a, b) : -1, same: p.same });
      }
      return out;
    },
  };
}

const shared = ['faceapi_bbt', 'deepface_small', 'face_recognition', 'compreface'].flatMap((s) =>
  pairs(s).map((p) => ({ a: join(FACES, p.a), b: join(FACES, p.b), same: p.same })),
);
const folds = lfwFolds();
const variants: [string, EmbedderDeclaration | undefined][] = [
  ['built-in (BGR)', undefined],
  ['declared, BGR', { ...SHIPPED_EMBEDDER, id: 'declared-fr_feature-bgr' }],
  ['declared, RGB', { ...SHIPPED_EMBEDDER, id: 'declared-fr_feature-rgb', channelOrder: 'rgb' }],
];
const report: Record<string, unknown>[] = [];
let builtIn: Awaited<ReturnType<typeof scorer>> | undefined;
for (const [name, decl] of variants) {
  const sc = await scorer(decl);
  builtIn ??= sc;
  const sh = await sc.score(shared);
  const lfw = await Promise.all(folds.map((f) => sc.score(f)));
  // Same photos, built-in vs this path: 1.0 when the declaration feeds the model as the engine does.
  let minCos = 1;
  for (const p of shared.slice(0, 40)) {
    const [x, y] = [await builtIn.emb(p.a), await sc.emb(p.a)];
    if (x && y) minCos = Math.min(minCos, cosine(x, y));
  }
  const acc = foldAccuracy(lfw);
  const row = {
    variant: name,
    model: sc.engine.modelId,
    sharedAuc: rocAuc(
      sh.filter((x) => x.same).map((x) => x.s),
      sh.filter((x) => !x.same).map((x) => x.s),
    ),
    sharedTarAtFar1e3: tarAt(sh, 1e-3),
    lfwAccuracy: acc.mean,
    lfwAccuracyStd: acc.std,
    lfwTarAtFar1e3: tarAt(lfw.flat(), 1e-3),
    minCosineToBuiltIn: minCos,
  };
  report.push(row);
  console.log(
    `${name}: shared AUC ${row.sharedAuc.toFixed(5)}, TAR@FAR1e-3 ${(100 * row.sharedTarAtFar1e3).toFixed(2)}% | lfw-dev ` +
      `accuracy ${(100 * acc.mean).toFixed(2)}% +- ${(100 * acc.std).toFixed(2)}, TAR@FAR1e-3 ${(100 * row.lfwTarAtFar1e3).toFixed(2)}%` +
      ` | min cosine to built-in ${minCos.toFixed(6)}`,
  );
}
const i = process.argv.indexOf('--json');
if (i > 0 && process.argv[i + 1]) writeFileSync(process.argv[i + 1]!, JSON.stringify(report, null, 2) + '\n');

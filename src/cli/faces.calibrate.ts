import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FaceEngine } from '../face/engine.js';
import { DEFAULT_MODELS_DIR } from '../face/models.js';
import { VeilError } from '../errors.js';
import { Progress, UsageError, type Io } from './output.js';
import { parseCommand as parse } from './args.js';
import { loadSettings } from '../config/settings.js';
import { activeEmbedder, SHIPPED_EMBEDDER } from '../face/model-declaration.js';
import { saveCalibration } from '../face/model-calibration.js';
import { fitCalibrationSet, requireCalibrationSet, setSize, shortfalls } from '../face/calibration-set.js';
import { failureOf, firstFace, reportFailures, type Failure } from './faces.commands.js';

/** Lists <dir>/<identity>/<image> files, skipping folders that start with '_' (group photos etc.). */
export function labelledImages(dir: string): { identity: string; file: string }[] {
  const out: { identity: string; file: string }[] = [];
  for (const id of readdirSync(dir).sort()) {
    const p = join(dir, id);
    if (id.startsWith('_') || id.startsWith('.') || !statSync(p).isDirectory()) continue;
    for (const f of readdirSync(p).sort()) {
      if (/\.(jpe?g|png|webp|gif|tiff?|avif)$/i.test(f)) out.push({ identity: id, file: join(p, f) });
    }
  }
  return out;
}

/**
 * `veil faces calibrate <dir>`: the 1:1 operating point of a model on a labelled folder and, for a
 * declared model with --save, its impostor tail, kept beside its file (model-calibration.ts).
 */
export async function calibrateCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv): Promise<number> {
  const usage = 'usage: veil faces calibrate <dir> [--target-fmr 0.001] [--model ID [--save]] [--json]';
  const { values, positionals } = parse(
    argv,
    {
      json: { type: 'boolean' },
      'target-fmr': { type: 'string' },
      model: { type: 'string' },
      save: { type: 'boolean' },
    },
    usage,
  );
  if (values.help) return (io.out(usage + '\n'), 0);
  if (positionals.length !== 1) throw new UsageError(usage);
  const target = values['target-fmr'] === undefined ? 1e-3 : Number(values['target-fmr']);
  if (!(target > 0 && target < 1)) throw new UsageError('--target-fmr must be in (0, 1)');
  const dir = positionals[0]!;
  const images = labelledImages(dir);
  if (images.length < 2) throw new VeilError('INVALID_INPUT', `${dir} holds no <identity>/<image> files.`);
  const settings = values.model === undefined ? undefined : loadSettings(env);
  const model = settings ? activeEmbedder(settings.engine.embedders, values.model) : SHIPPED_EMBEDDER;
  if (values.save && model.id === SHIPPED_EMBEDDER.id)
    throw new UsageError("--save is for declared models: the shipped model's calibration is published with it");
  // The tail is what a saved calibration is used for; a report fits one only when the set can carry it.
  const tail = values.save === true;
  // Refused before an hour of embedding when even every photo having a face would not be enough.
  requireCalibrationSet(setSize(images.map((i) => i.identity)), target, tail);
  const engine = await FaceEngine.create(model === SHIPPED_EMBEDDER ? {} : { embedder: model });
  const progress = new Progress(io, images.length, 'embedding');
  const embedded: { identity: string; e: Float32Array }[] = [];
  const failures: Failure[] = [];
  for (const img of images) {
    try {
      embedded.push({ identity: img.identity, e: (await firstFace(engine, img.file)).embedding });
    } catch (e) {
      failures.push(failureOf(relative(dir, img.file), e));
    }
    progress.tick();
  }
  const at = new Date().toISOString();
  const withTail = tail || !shortfalls(setSize(embedded.map((x) => x.identity)), target, true).length;
  const fitted = fitCalibrationSet(engine.modelId, embedded, { targetFmr: target, tail: withTail, dataset: dir, at });
  const c = fitted.calibration;
  const saved = tail
    ? saveCalibration(model, DEFAULT_MODELS_DIR, {
        ...c,
        sha256: model.sha256,
        dataset: dir,
        images: embedded.length,
        at,
        ...(fitted.tail ? { tail: fitted.tail } : {}),
      })
    : null;
  if (values.json)
    io.out(
      JSON.stringify({
        ...c,
        images: embedded.length,
        identities: fitted.size.identities,
        tail: fitted.tail,
        failures,
        saved,
      }) + '\n',
    );
  else {
    io.out(
      `model ${c.model}: ${embedded.length} images of ${fitted.size.identities} people, ${c.genuinePairs} same-person pairs, ${c.impostorPairs} different-person pairs\n`,
    );
    io.out(`ROC AUC ${c.auc.toFixed(5)}; EER ${(c.eer.fmr * 100).toFixed(2)}% at ${c.eer.threshold.toFixed(3)}\n`);
    io.out(
      `threshold for FMR <= ${target}: ${c.operatingPoint.threshold} -> FMR ${(c.operatingPoint.fmr * 100).toFixed(3)}%, FNMR ${(c.operatingPoint.fnmr * 100).toFixed(2)}%\n`,
    );
    const t = fitted.tail;
    io.out(
      t
        ? `impostor tail: u ${t.u.toFixed(4)}, P(S > u) ${t.zeta.toExponential(3)}, shape ${t.xi.toFixed(4)}, scale ${t.sigma.toFixed(4)} (${t.comparisons} pairs)\n`
        : 'impostor tail: not fitted (the set is smaller than a tail needs; see docs/accuracy.md)\n',
    );
    if (saved) io.out(`calibration saved to ${saved}\n`);
    reportFailures(failures, io);
  }
  return 0;
}

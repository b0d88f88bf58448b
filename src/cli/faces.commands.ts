import { readFile } from 'node:fs/promises';
import { FaceEngine, type DetectedFace, type EmbeddedFace } from '../face/engine.js';
import { DEFAULT_MODELS_DIR } from '../face/models.js';
import { cosine } from '../face/embedder.js';
import { estimatedFmr } from '../face/calibration.js';
import { modelCalibration } from '../face/model-calibration.js';
import { enrollability } from '../gallery/enrollment-gate.js';
import { VeilError, isVeilError } from '../errors.js';
import { Progress, UsageError, type Io } from './output.js';
import { parseCommand as parse } from './args.js';
import { SHIPPED_EMBEDDER } from '../face/model-declaration.js';

const HELP = `veil faces <command>

  detect <image...> [--json]            faces with box, score, landmarks, quality
  embed <image...> --jsonl              one JSON line per image with 512-d embeddings
  compare <a> <b> [--json] [--threshold T]
                                        similarity, threshold, match yes/no
  calibrate <dir> [--target-fmr F] [--model ID [--save]] [--json]
                                        thresholds from a folder laid out as <identity>/<image>;
                                        --model: a model declared in VEIL_MODELS, --save: also fit its
                                        impostor tail and keep both beside its file (needed before it
                                        is used). Needs 10/F different-person pairs; --save needs 400
                                        people and 200,000 different-person pairs
  status [--json]                       templates per model id (data directory needed)
  reembed [--dry-run] [--model ID] [--json]
                                        re-embed other models' templates from kept photos under the
                                        active model; list who must re-enroll; --model: the model
                                        meant, to change the runs' direction on purpose
`;

const round = (n: number, d = 2): number => Math.round(n * 10 ** d) / 10 ** d;

function faceJson(f: DetectedFace) {
  return {
    box: { x: round(f.box.x, 1), y: round(f.box.y, 1), width: round(f.box.width, 1), height: round(f.box.height, 1) },
    score: round(f.score, 4),
    landmarks: f.landmarks.map((p) => ({ x: round(p.x, 1), y: round(p.y, 1) })),
    quality: {
      faceSize: round(f.quality.faceSize, 1),
      eyeDistance: round(f.quality.eyeDistance, 1),
      sharpness: round(f.quality.sharpness, 1),
      yaw: round(f.quality.yaw, 1),
      roll: round(f.quality.roll, 1),
      pitch: round(f.quality.pitch, 1),
      ...enrollability(f.quality),
    },
  };
}

export async function facesCommand(argv: string[], io: Io, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h') {
    io.out(HELP);
    return sub ? 0 : 2;
  }
  switch (sub) {
    case 'detect':
      return detect(rest, io);
    case 'embed':
      return embed(rest, io);
    case 'compare':
      return compare(rest, io);
    case 'calibrate':
      return (await import('./faces.calibrate.js')).calibrateCommand(rest, io, env);
    case 'status':
      return (await import('./faces.models.js')).modelStatusCommand(rest, io);
    case 'reembed':
      return (await import('./faces.models.js')).reembedCommand(rest, io);
    default:
      throw new UsageError(`unknown command 'faces ${sub}'\n${HELP}`);
  }
}

export interface Failure {
  file: string;
  code: string;
  message: string;
}

export function reportFailures(failures: Failure[], io: Io): void {
  if (!failures.length) return;
  io.err(`${failures.length} file(s) failed:\n`);
  for (const f of failures) io.err(`  ${f.file}: ${f.code}: ${f.message}\n`);
}

export function failureOf(file: string, e: unknown): Failure {
  if (isVeilError(e)) return { file, code: e.code, message: e.message };
  if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { file, code: 'NOT_FOUND', message: 'No such file.' };
  return { file, code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) };
}

async function detect(argv: string[], io: Io): Promise<number> {
  const usage = 'usage: veil faces detect <image...> [--json]';
  const { values, positionals } = parse(argv, { json: { type: 'boolean' } }, usage);
  if (values.help) return (io.out(usage + '\n'), 0);
  if (!positionals.length) throw new UsageError(usage);
  const engine = await FaceEngine.create();
  const results: unknown[] = [];
  const failures: Failure[] = [];
  for (const file of positionals) {
    try {
      const r = await engine.detect(await readFile(file));
      const faces = r.faces.map(faceJson);
      results.push({ file, width: r.width, height: r.height, faces });
      if (!values.json) {
        io.out(`${file}: ${r.width}x${r.height}, ${faces.length} face(s)\n`);
        faces.forEach((f, i) =>
          io.out(
            `  #${i + 1} box ${f.box.x},${f.box.y} ${f.box.width}x${f.box.height} score ${f.score} size ${f.quality.faceSize}px yaw ${f.quality.yaw} sharpness ${f.quality.sharpness}${f.quality.enrollable ? '' : ` (not enrollable: ${f.quality.reasons.join(', ')})`}\n`,
          ),
        );
      }
    } catch (e) {
      failures.push(failureOf(file, e));
    }
  }
  if (values.json) io.out(JSON.stringify({ results, failures }) + '\n');
  else reportFailures(failures, io);
  return failures.length ? 1 : 0;
}

async function embed(argv: string[], io: Io): Promise<number> {
  const usage = 'usage: veil faces embed <image...> --jsonl';
  const { values, positionals } = parse(argv, { jsonl: { type: 'boolean' } }, usage);
  if (values.help) return (io.out(usage + '\n'), 0);
  if (!positionals.length || !values.jsonl)
    throw new UsageError(usage + ' (embeddings are only printed as JSON lines)');
  const engine = await FaceEngine.create();
  const failures: Failure[] = [];
  const progress = new Progress(io, positionals.length, 'embedding');
  for (const file of positionals) {
    try {
      const r = await engine.analyze(await readFile(file));
      io.out(
        JSON.stringify({
          file,
          faces: r.faces.map((f) => ({
            ...faceJson(f),
            model: f.model,
            embedding: Array.from(f.embedding, (v) => round(v, 6)),
          })),
        }) + '\n',
      );
    } catch (e) {
      const f = failureOf(file, e);
      failures.push(f);
      io.out(JSON.stringify({ file, error: { code: f.code, message: f.message } }) + '\n');
    }
    progress.tick();
  }
  reportFailures(failures, io);
  return failures.length ? 1 : 0;
}

export async function firstFace(engine: FaceEngine, file: string): Promise<EmbeddedFace> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch {
    throw new VeilError('NOT_FOUND', `${file}: no such file.`);
  }
  const r = await engine.analyze(bytes);
  if (!r.faces.length) throw new VeilError('NO_FACE', `${file}: no face was found in the image.`);
  return r.faces[0]!;
}

async function compare(argv: string[], io: Io): Promise<number> {
  const usage = 'usage: veil faces compare <a> <b> [--json] [--threshold T]';
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, threshold: { type: 'string' } }, usage);
  if (values.help) return (io.out(usage + '\n'), 0);
  if (positionals.length !== 2) throw new UsageError(usage);
  // The shipped engine compares, so the shipped model's calibration applies.
  const calibration = modelCalibration(SHIPPED_EMBEDDER, DEFAULT_MODELS_DIR);
  const threshold = values.threshold === undefined ? calibration.threshold : Number(values.threshold);
  if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1)
    throw new UsageError('--threshold must be a number in [-1, 1]');
  const engine = await FaceEngine.create();
  const [a, b] = [await firstFace(engine, positionals[0]!), await firstFace(engine, positionals[1]!)];
  const similarity = cosine(a.embedding, b.embedding);
  const result = {
    similarity: round(similarity, 4),
    threshold,
    match: similarity >= threshold,
    estimatedFalseMatchRate: Number(estimatedFmr(calibration, similarity).toPrecision(2)),
    model: engine.modelId,
  };
  if (values.json) io.out(JSON.stringify(result) + '\n');
  else
    io.out(
      `${result.match ? 'MATCH' : 'NO MATCH'}: similarity ${result.similarity} (threshold ${threshold}, model ${result.model})\n`,
    );
  return 0;
}

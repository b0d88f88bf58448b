import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../../src/face/engine.js';
import { EnginePool } from '../../src/face/engine.pool.js';
import { cosine } from '../../src/face/embedder.js';
import { calibrate, rocAuc } from '../../src/face/calibration.js';
import { DEFAULT_MODELS_DIR } from '../../src/face/models.js';
import {
  DEFAULT_CALIBRATION,
  DEFAULT_IMPOSTOR_TAIL,
  DEFAULT_TAIL_FITTED_ON,
} from '../../src/face/calibration.default.js';
import { SHIPPED_EMBEDDER, type EmbedderDeclaration } from '../../src/face/model-declaration.js';
import { modelCalibration, saveCalibration, STRICT_FMR } from '../../src/face/model-calibration.js';
import { thresholdForFmr } from '../../src/gallery/open-set.js';
import { saveTestCalibration } from '../../support/declared-model.js';
import { isVeilError } from '../../src/errors.js';
import { face, pairs } from '../helpers.js';
import { tempDir } from '../../support/temp-dir.js';

// Bring your own model, tested with the one model here: the shipped embedder declared through the
// same path an operator's model takes. Fed as the engine feeds it, it must give the same templates;
// fed RGB instead of BGR, it must lose accuracy (docs/models.md: the embedder expects BGR).

const BGR: EmbedderDeclaration = { ...SHIPPED_EMBEDDER, id: 'declared-fr_feature-bgr' };
const RGB: EmbedderDeclaration = { ...SHIPPED_EMBEDDER, id: 'declared-fr_feature-rgb', channelOrder: 'rgb' };
const PHOTOS = ['faceapi_bbt/amy/amy1.png', 'deepface_small/id01/img1.jpg', 'face_recognition/obama/test_obama.jpg'];

async function embed(engine: FaceEngine, path: string): Promise<Float32Array> {
  const r = await engine.analyze(face(path));
  return [...r.faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0]!.embedding;
}

/** Genuine and impostor scores over the shared pairs of two sets. */
async function scores(engine: FaceEngine) {
  const cache = new Map<string, Float32Array>();
  const get = async (p: string) => cache.get(p) ?? (cache.set(p, await embed(engine, p)), cache.get(p)!);
  const genuine: number[] = [];
  const impostor: number[] = [];
  for (const set of ['faceapi_bbt', 'face_recognition'])
    for (const p of pairs(set)) (p.same ? genuine : impostor).push(cosine(await get(p.a), await get(p.b)));
  return { genuine, impostor };
}

describe('a declared embedder', () => {
  let builtIn: FaceEngine, bgr: FaceEngine, rgb: FaceEngine;
  before(async () => {
    [builtIn, bgr, rgb] = await Promise.all([
      FaceEngine.create(),
      FaceEngine.create({ embedder: BGR }),
      FaceEngine.create({ embedder: RGB }),
    ]);
  });

  test('the shipped model declared with its own parameters gives the same templates, under its own id', async () => {
    for (const p of PHOTOS) {
      const [a, b] = [await embed(builtIn, p), await embed(bgr, p)];
      assert.ok(cosine(a, b) > 0.99999, `${p}: ${cosine(a, b)}`);
    }
    assert.equal(bgr.modelId, 'declared-fr_feature-bgr');
    assert.equal((await bgr.analyze(face(PHOTOS[0]!))).faces[0]!.model, 'declared-fr_feature-bgr');
  });

  test('declared with the wrong channel order (RGB), it loses accuracy as it should', async () => {
    const right = await scores(bgr);
    const wrong = await scores(rgb);
    const auc = [rocAuc(right.genuine, right.impostor), rocAuc(wrong.genuine, wrong.impostor)];
    // Separation of same-person from different-person scores, in impostor standard deviations.
    const sep = (s: typeof right) => {
      const m = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const sd = Math.sqrt(m(s.impostor.map((x) => (x - m(s.impostor)) ** 2)));
      return (m(s.genuine) - m(s.impostor)) / sd;
    };
    assert.ok(sep(wrong) < sep(right) - 0.1, `separation ${sep(right)} -> ${sep(wrong)}`);
    assert.ok(auc[1]! <= auc[0]!, `AUC ${auc[0]} -> ${auc[1]}`);
    // Same photos, different models: far apart, which is why templates are never compared across ids.
    assert.ok(cosine(await embed(bgr, PHOTOS[2]!), await embed(rgb, PHOTOS[2]!)) < 0.99);
  });

  test('a wrong hash or a wrong output dimension is refused', async () => {
    await assert.rejects(FaceEngine.create({ embedder: { ...RGB, sha256: '0'.repeat(64) } }), (e) =>
      isVeilError(e, 'MODEL_CORRUPT'),
    );
    // A warmed engine (the server's workers) embeds a synthetic face first, so a wrong dimension is refused
    // at start, before any request; a cold one refuses it at the first photo.
    await assert.rejects(FaceEngine.create({ embedder: { ...RGB, outputDimensions: 128 }, warmUp: 1 }), (e) =>
      isVeilError(e, 'MODEL_CORRUPT'),
    );
    const wrongDims = await FaceEngine.create({ embedder: { ...RGB, outputDimensions: 128 } });
    await assert.rejects(wrongDims.analyze(face(PHOTOS[0]!)), (e) => isVeilError(e, 'MODEL_CORRUPT'));
  });

  test('the worker pool reports the declared id and embeds with it', async () => {
    const pool = await EnginePool.create({ size: 1, engine: { embedder: RGB } });
    after(() => pool.close());
    assert.equal(pool.modelId, RGB.id);
    const r = await pool.analyze(face(PHOTOS[2]!));
    assert.equal(r.faces[0]!.model, RGB.id);
    assert.ok(cosine(r.faces[0]!.embedding, await embed(rgb, PHOTOS[2]!)) > 0.99999);
  });
});

describe('the calibration kept with a declared model', () => {
  const dir = tempDir('veil-model-');
  after(() => rmSync(dir, { recursive: true, force: true }));
  const decl: EmbedderDeclaration = { ...RGB, file: join(dir, 'copy.onnx') };
  copyFileSync(join(DEFAULT_MODELS_DIR, SHIPPED_EMBEDDER.file), decl.file);

  test('none yet: nothing may be searched with it; once saved for this file, its threshold and tail are used', () => {
    assert.throws(
      () => modelCalibration(decl, DEFAULT_MODELS_DIR),
      (e) => isVeilError(e, 'MODEL_UNCALIBRATED'),
    );
    const c = calibrate(decl.id, [0.6, 0.7, 0.8], [0.0, 0.1, -0.1, 0.05], 1e-3);
    const tail = { ...DEFAULT_IMPOSTOR_TAIL, model: decl.id, u: 0.3, sigma: 0.05 };
    const fittedOn = { dataset: 'x', identities: 400, photos: 900, impostorPairs: 400_000, at: '' };
    const path = saveCalibration(decl, DEFAULT_MODELS_DIR, {
      ...c,
      sha256: decl.sha256,
      dataset: 'x',
      images: 7,
      at: '',
      tail: { ...tail, fittedOn },
    });
    assert.equal(path, join(dir, 'declared-fr_feature-rgb.calibration.json'));
    const used = modelCalibration(decl, DEFAULT_MODELS_DIR);
    assert.equal(used.threshold, c.operatingPoint.threshold);
    assert.deepEqual({ ...used.tail, fittedOn: undefined }, { ...tail, fittedOn: undefined });
    // Identity proof: the stored tail's score at STRICT_FMR, rounded up to 0.01, not the shipped 0.48.
    assert.equal(used.strictThreshold, Math.ceil(thresholdForFmr(tail, STRICT_FMR) * 100) / 100);
    assert.notEqual(used.strictThreshold, DEFAULT_CALIBRATION.strictThreshold);
    // Another file under the same id (a new hash) must be calibrated again.
    assert.throws(
      () => modelCalibration({ ...decl, sha256: 'f'.repeat(64) }, DEFAULT_MODELS_DIR),
      (e) => isVeilError(e, 'MODEL_UNCALIBRATED'),
    );
  });

  test('a calibration made before tails were stored, or with a tail of another model, is refused: calibrate again', () => {
    saveTestCalibration(decl, { tail: null });
    assert.throws(
      () => modelCalibration(decl, DEFAULT_MODELS_DIR),
      (e) =>
        isVeilError(e, 'MODEL_UNCALIBRATED') &&
        /no impostor tail/.test(e.message) &&
        e.message.includes(`veil faces calibrate <dir> --model ${decl.id} --save`),
    );
    const path = saveTestCalibration(decl);
    const stored = JSON.parse(readFileSync(path, 'utf8'));
    // A truncated or broken file is refused as unreadable, never half-used.
    for (const broken of [JSON.stringify(stored).slice(0, 80), JSON.stringify({ ...stored, operatingPoint: {} })]) {
      writeFileSync(path, broken);
      assert.throws(
        () => modelCalibration(decl, DEFAULT_MODELS_DIR),
        (e) => isVeilError(e, 'MODEL_UNCALIBRATED') && /cannot be read/.test(e.message),
      );
    }
    writeFileSync(path, JSON.stringify({ ...stored, tail: { ...stored.tail, model: SHIPPED_EMBEDDER.id } }));
    assert.throws(
      () => modelCalibration(decl, DEFAULT_MODELS_DIR),
      (e) => isVeilError(e, 'MODEL_UNCALIBRATED'),
    );
  });

  test("the shipped model's calibration is the published one, its tail included", () => {
    const shipped = modelCalibration(SHIPPED_EMBEDDER, DEFAULT_MODELS_DIR);
    assert.equal(shipped.threshold, DEFAULT_CALIBRATION.threshold);
    assert.equal(shipped.strictThreshold, DEFAULT_CALIBRATION.strictThreshold);
    assert.deepEqual(shipped.tail, { ...DEFAULT_IMPOSTOR_TAIL, fittedOn: DEFAULT_TAIL_FITTED_ON });
  });
});

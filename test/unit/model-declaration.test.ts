import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSettings } from '../../src/config/settings.js';
import { SHIPPED_EMBEDDER, activeEmbedder, alignmentTemplate } from '../../src/face/model-declaration.js';
import { ARCFACE_TEMPLATE } from '../../src/face/embedder.js';

const decl = { id: 'acme-face@2', file: '/models/acme.onnx', sha256: 'a'.repeat(64), outputDimensions: 256 };

test('VEIL_MODELS declares embedders as JSON; what is left out takes the documented defaults', () => {
  const s = loadSettings({ VEIL_MODELS: JSON.stringify([decl]), VEIL_EMBEDDER: 'acme-face@2' });
  const d = activeEmbedder(s.engine.embedders, s.engine.embedder);
  assert.deepEqual(d, {
    ...decl,
    inputSize: 112,
    channelOrder: 'rgb',
    normalisation: { mean: 127.5, std: 127.5 },
    alignment: 'arcface',
    layout: 'nchw',
  });
  assert.equal(activeEmbedder(s.engine.embedders, undefined), SHIPPED_EMBEDDER);
  assert.equal(loadSettings({}).engine.embedder, SHIPPED_EMBEDDER.id);
});

test('a bad declaration is refused when settings load, naming the setting', () => {
  for (const bad of [
    [decl, decl],
    [{ ...decl, id: SHIPPED_EMBEDDER.id }],
    [{ ...decl, sha256: 'nope' }],
    [{ ...decl, channelOrder: 'grb' }],
    [{ ...decl, alignment: [{ x: 1, y: 2 }] }],
    [{ ...decl, surprise: true }],
  ])
    assert.throws(
      () => loadSettings({ VEIL_MODELS: JSON.stringify(bad) }),
      (e: Error) => /engine\.embedders[.\w]* \(VEIL_MODELS\)/.test(e.message),
      JSON.stringify(bad),
    );
  assert.throws(
    () => activeEmbedder([], 'not-declared'),
    (e: Error) => /No embedder 'not-declared'/.test(e.message),
  );
});

test("'arcface' alignment is the 112-pixel template scaled to the input size", () => {
  const t = alignmentTemplate({ ...SHIPPED_EMBEDDER, inputSize: 224 }, ARCFACE_TEMPLATE);
  assert.deepEqual(t[0], { x: ARCFACE_TEMPLATE[0].x * 2, y: ARCFACE_TEMPLATE[0].y * 2 });
});

#!/usr/bin/env node
// Installs the face model weights into ./models from npm registry tarballs.
// Why not a dependency: faceplugin-face-recognition-js lists jest/webpack/babel as runtime
// dependencies (431 packages, 312 MB) for a few MB of ONNX weights. We take only the weights,
// from the registry, checked against the integrity the registry published.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  copyFileSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const modelsDir = join(root, 'models');

const SOURCES = [
  {
    spec: 'faceplugin-face-recognition-js@0.0.1',
    integrity: 'sha512-shriXjd4zJHEwhK1jHK+bWo8Vv6Vu9B/w6RRsd4AFtNM/jaI2vhuOamOSMl9qQmLd8WlQ7dgqN+3C2iOi5pXWw==',
    // fr_liveness.onnx (MIT, like the rest of the package): presentation-attack check on identity-proof selfies.
    files: ['model/fr_detect.onnx', 'model/fr_landmark.onnx', 'model/fr_feature.onnx', 'model/fr_liveness.onnx'],
  },
];

function fail(message) {
  process.stderr.write(`veil: cannot install face models: ${message}\n`);
  process.exit(1);
}

function installSource(src) {
  const wanted = src.files.map((f) => join(modelsDir, f.split('/').pop()));
  if (wanted.every((p) => existsSync(p))) return false;
  const work = mkdtempSync(join(tmpdir(), 'veil-models-'));
  try {
    let out;
    try {
      out = execFileSync('npm', ['pack', src.spec, '--json', '--pack-destination', work, '--ignore-scripts'], {
        cwd: work,
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
      });
    } catch (e) {
      fail(
        `'npm pack ${src.spec}' failed (is the npm registry reachable?): ${String(e.stderr || e.message)
          .trim()
          .split('\n')
          .pop()}`,
      );
    }
    const info = JSON.parse(out)[0];
    const tgz = join(work, info.filename);
    const [algo, expected] = src.integrity.split('-');
    const actual = createHash(algo).update(readFileSync(tgz)).digest('base64');
    if (actual !== expected)
      fail(`${src.spec} tarball integrity mismatch (expected ${src.integrity}, got ${algo}-${actual})`);
    execFileSync('tar', ['xzf', tgz, '-C', work, ...src.files.map((f) => `package/${f}`)]);
    mkdirSync(modelsDir, { recursive: true });
    for (const f of src.files) copyFileSync(join(work, 'package', f), join(modelsDir, f.split('/').pop()));
    return true;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

let installed = 0;
for (const src of SOURCES) if (installSource(src)) installed++;
// A manifest of sha256 per file lets the engine refuse a swapped or truncated model.
const manifest = {};
for (const f of readdirSync(modelsDir)
  .filter((n) => n.endsWith('.onnx'))
  .sort()) {
  manifest[f] = createHash('sha256')
    .update(readFileSync(join(modelsDir, f)))
    .digest('hex');
}
writeFileSync(join(modelsDir, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n');
if (installed > 0) process.stderr.write(`veil: face models installed into ${modelsDir}\n`);

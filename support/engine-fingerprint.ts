import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/**
 * What a cached embedding depends on: the model id, the model files' manifest, the engine's code
 * (src/face: decoding, detection, landmarks, alignment) and the versions of the libraries that decode
 * the photo and run the models (an upgrade of either can move a template). A cache checked by the model
 * id alone kept embeddings from before an alignment change, so the numbers reported were not the code's.
 */
export function engineFingerprint(modelId: string): string {
  const h = createHash('sha256').update(modelId);
  h.update(readFileSync(join(root, 'models', 'MANIFEST.json')));
  for (const lib of ['sharp', 'onnxruntime-node', 'onnxruntime-common'])
    h.update(lib).update(readFileSync(join(root, 'node_modules', lib, 'package.json')));
  const dir = join(root, 'src', 'face');
  for (const f of readdirSync(dir).sort()) if (f.endsWith('.ts')) h.update(f).update(readFileSync(join(dir, f)));
  return h.digest('hex').slice(0, 16);
}

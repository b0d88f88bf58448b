// Real face embeddings for the scale benchmark: every photo of ../shared/datasets/lfw-dev through the
// default engine, cached in bench/results/lfw-embeddings.bin (git-ignored) so later runs skip the
// engine. Never read by `npm test`.
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceEngine } from '../../src/face/engine.js';
import { largestFace } from '../../src/gallery/search.service.js';
import { engineFingerprint } from '../../support/engine-fingerprint.js';

const here = dirname(fileURLToPath(import.meta.url));
export const LFW = process.env['VEIL_LFW_DIR'] ?? join(here, '..', '..', '..', 'shared', 'datasets', 'lfw-dev');
const CACHE = join(here, '..', 'results', 'lfw-embeddings.bin');
const DIMS = 512;

export interface LfwEmbeddings {
  /** `Name/Name_0001.jpg` per row. */
  readonly files: readonly string[];
  readonly identity: readonly string[];
  /** rows x 512, L2-normalised; rows without a detected face are absent. */
  readonly vectors: Float32Array;
  readonly modelId: string;
}

export async function lfwEmbeddings(log: (s: string) => void = () => undefined): Promise<LfwEmbeddings> {
  const engine = await FaceEngine.create();
  const fingerprint = engineFingerprint(engine.modelId);
  if (existsSync(CACHE)) {
    const raw = readFileSync(CACHE);
    const headLen = raw.readUInt32LE(0);
    const head = JSON.parse(raw.subarray(4, 4 + headLen).toString('utf8')) as {
      files: string[];
      modelId: string;
      fingerprint?: string;
    };
    if (head.fingerprint === fingerprint) {
      const off = 4 + headLen;
      const vectors = new Float32Array(raw.buffer.slice(raw.byteOffset + off, raw.byteOffset + raw.length));
      return { files: head.files, identity: head.files.map((f) => f.split('/')[0]!), vectors, modelId: head.modelId };
    }
  }
  const files: string[] = [];
  const rows: Float32Array[] = [];
  const people = readdirSync(join(LFW, 'images')).sort();
  let done = 0;
  for (const p of people) {
    for (const f of readdirSync(join(LFW, 'images', p)).sort()) {
      const r = await engine.analyze(readFileSync(join(LFW, 'images', p, f)));
      const face = largestFace(r.faces);
      if (face) {
        files.push(`${p}/${f}`);
        rows.push(face.embedding);
      }
      if (++done % 500 === 0) log(`lfw: ${done} photos embedded`);
    }
  }
  const vectors = new Float32Array(rows.length * DIMS);
  rows.forEach((v, i) => vectors.set(v, i * DIMS));
  const head = Buffer.from(JSON.stringify({ files, modelId: engine.modelId, fingerprint }));
  const len = Buffer.alloc(4);
  len.writeUInt32LE(head.length);
  mkdirSync(dirname(CACHE), { recursive: true });
  writeFileSync(CACHE, Buffer.concat([len, head, Buffer.from(vectors.buffer)]));
  return { files, identity: files.map((f) => f.split('/')[0]!), vectors, modelId: engine.modelId };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const e = await lfwEmbeddings((s) => process.stderr.write(s + '\n'));
  process.stdout.write(`${e.files.length} embeddings of ${new Set(e.identity).size} people\n`);
}

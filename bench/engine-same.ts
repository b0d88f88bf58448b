// Whether two engine configurations compute the same thing (issue 17 item 5): every photo of the
// shared faces through both, faces paired in order; prints the lowest template cosine and the largest
// box and landmark differences (pixels of the original photo), and how many embeddings are bit-identical.
// Not part of `npm run bench`:
//   SAME_OLD='{"flushTinyWeights":false}' SAME_NEW='{}' node --import tsx bench/engine-same.ts
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { FACES } from '../support/faces.js';
import { cosine } from '../src/face/embedder.js';
import { FaceEngine, type FaceEngineOptions } from '../src/face/engine.js';

const opts = (k: string) => JSON.parse(process.env[k] ?? '{}') as Partial<FaceEngineOptions>;
const [a, b] = await Promise.all([FaceEngine.create(opts('SAME_OLD')), FaceEngine.create(opts('SAME_NEW'))]);
const walk = (d: string): string[] =>
  readdirSync(d).flatMap((n) => {
    const p = join(d, n);
    return statSync(p).isDirectory() ? walk(p) : /\.(jpe?g|png|webp)$/i.test(n) ? [p] : [];
  });
// SAME_DIR: another folder of photos (e.g. /work/shared/datasets/lfw-dev), SAME_LIMIT: its first N.
const DIR = process.env['SAME_DIR'] ?? FACES;
const files = walk(DIR)
  .sort()
  .slice(0, Number(process.env['SAME_LIMIT'] ?? Infinity));
let photos = 0,
  faces = 0,
  countDiffers = 0,
  minCos = 1,
  maxBox = 0,
  maxPoint = 0,
  refused = 0,
  identical = 0;
let worst = '';
for (const f of files) {
  const bytes = readFileSync(f);
  const [x, y] = await Promise.all([a.analyze(bytes).catch(() => null), b.analyze(bytes).catch(() => null)]);
  if (!x || !y) {
    if (!x !== !y) throw new Error(`${relative(DIR, f)}: one configuration refused the photo, the other not`);
    refused++;
    continue;
  }
  photos++;
  if (x.faces.length !== y.faces.length) {
    countDiffers++;
    continue;
  }
  for (let i = 0; i < x.faces.length; i++) {
    const p = x.faces[i]!,
      q = y.faces[i]!;
    faces++;
    const c = cosine(p.embedding, q.embedding);
    // Bit for bit (Object.is tells -0 from 0), and the quality measures with them.
    if (
      p.embedding.every((v, k) => Object.is(v, q.embedding[k])) &&
      JSON.stringify(p.quality) === JSON.stringify(q.quality)
    )
      identical++;
    if (c < minCos) [minCos, worst] = [c, relative(DIR, f)];
    for (const k of ['x', 'y', 'width', 'height'] as const) maxBox = Math.max(maxBox, Math.abs(p.box[k] - q.box[k]));
    for (let j = 0; j < 5; j++)
      maxPoint = Math.max(
        maxPoint,
        Math.hypot(p.landmarks[j]!.x - q.landmarks[j]!.x, p.landmarks[j]!.y - q.landmarks[j]!.y),
      );
  }
}
process.stdout.write(
  JSON.stringify({
    dir: DIR,
    files: files.length,
    photos,
    refused,
    faces,
    identical,
    countDiffers,
    minCos,
    worst,
    maxBox,
    maxPoint,
  }) + '\n',
);
// SAME_NEAR=1 accepts templates within cosine 0.9999 (a change meant to move them slightly); by default
// the claim checked is the docs': identical outputs.
const near = process.env['SAME_NEAR'] === '1';
if (countDiffers || minCos < 0.9999 || (!near && (identical !== faces || maxBox !== 0 || maxPoint !== 0)))
  process.exitCode = 1;

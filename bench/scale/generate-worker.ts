// The scale bench's distractor generator on a thread of its own: the one seeded stream of
// support/distractors.ts (Gaussian(1), rows in order, the same rows as one sampleDistractors call),
// made a chunk at a time into the buffer the main thread passes (and takes back), while the main
// thread adds the previous chunk to the index and scores it exactly. Several generators share the
// stream: each skips the rows the others make. Before each row the generator's
// state goes into `states` (shared, 16 bytes a row), so the exact re-score can make any row again.
import { parentPort, workerData } from 'node:worker_threads';
import { Gaussian, sampleDistractors, skipDistractors, type DistractorModel } from '../../support/distractors.js';

const { model, states } = workerData as { model: DistractorModel; states: SharedArrayBuffer };
const saved = new Int32Array(states);
const rng = new Gaussian(1);
let next = 0;
parentPort!.on('message', (m: { buffer: ArrayBuffer; from: number; count: number; offset: number }) => {
  if (m.from < next) throw new Error(`distractors are made in order: ${next} next, ${m.from} asked`);
  const t = performance.now();
  // Rows another generator makes are skipped (the stream is the same, each thread makes its chunks).
  skipDistractors(model, m.from - next, rng);
  const out = new Float32Array(m.buffer);
  for (let i = 0; i < m.count; i++) {
    rng.saveTo(saved, (m.from + i) * 4);
    sampleDistractors(model, 1, rng, out, m.offset + i);
  }
  next = m.from + m.count;
  // Wall seconds of this thread's work (process.cpuUsage counts every thread).
  parentPort!.postMessage({ ...m, seconds: (performance.now() - t) / 1000 }, [m.buffer]);
});

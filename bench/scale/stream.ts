// The scale bench's rows as a stream (what lets it run at 10M: 20 GB of float rows are never held):
// the mates first, then the seeded distractors, made a chunk at a time on worker threads
// (generate-worker.ts) while the caller adds the previous chunk to the index and scores it exactly
// (support/exact-reference.ts). Any distractor can be made again alone from its saved generator
// state, for the quantised tier's exact re-score (the service reads those rows from the store).
import { Worker } from 'node:worker_threads';
import { Gaussian, sampleDistractors, type DistractorModel } from '../../support/distractors.js';

const D = 512;

/** A worker thread running a TypeScript module (through tsx, as the bench itself runs). */
export function tsWorker(module: URL, workerData: unknown): Worker {
  const src =
    `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\nregister();\n` +
    `await import(${JSON.stringify(module.href)});\n`;
  return new Worker(new URL('data:text/javascript,' + encodeURIComponent(src)), { workerData });
}

export interface RowStream {
  /** 4 int32 words a distractor: the generator's state before it. */
  readonly states: Int32Array;
  /** Chunk buffers of `chunkRows` rows (one per generator and one for the caller), allocated and touched before the stream starts. */
  readonly buffers: ArrayBuffer[];
  readonly chunkRows: number;
}

/** States and buffers made (and their pages touched) up front, so RSS measured around the build leaves them out. */
export function rowStream(distractors: number, chunkRows: number, generators = 1): RowStream {
  const states = new Int32Array(new SharedArrayBuffer(distractors * 16)).fill(1);
  const buffer = () => {
    const b = new ArrayBuffer(chunkRows * D * 4);
    new Float32Array(b).fill(1);
    return b;
  };
  return { states, buffers: Array.from({ length: generators + 1 }, buffer), chunkRows };
}

interface Reply {
  buffer: ArrayBuffer;
  from: number;
  count: number;
  offset: number;
  seconds: number;
}

/**
 * Every row in order, `onChunk(rows, n, first)` once per chunk of global rows [first, first + n):
 * rows 0..mates-1 are the mates, row mates + i is distractor i. Chunk c is made by generator
 * c mod G (G = buffers - 1), each a worker thread skipping the others' rows of the one stream.
 * Resolves to the generators' seconds (summed) and the time the caller waited for them.
 */
export async function streamRows(
  s: RowStream,
  model: DistractorModel,
  mates: readonly Float32Array[],
  distractors: number,
  onChunk: (rows: Float32Array, n: number, first: number) => void | Promise<void>,
): Promise<{ generateSeconds: number; waitSeconds: number; generators: number }> {
  const M = mates.length;
  const total = M + distractors;
  const CH = s.chunkRows;
  const chunks = Math.ceil(total / CH);
  const G = s.buffers.length - 1;
  const workers = Array.from({ length: G }, () => {
    const worker = tsWorker(new URL('./generate-worker.ts', import.meta.url), { model, states: s.states.buffer });
    const waiting: { ok: (r: Reply) => void; fail: (e: unknown) => void }[] = [];
    worker.on('message', (r: Reply) => waiting.shift()!.ok(r));
    worker.on('error', (e) => waiting.splice(0).forEach((w) => w.fail(e)));
    return { worker, waiting };
  });
  const ask = (c: number, buffer: ArrayBuffer): Promise<Reply> => {
    const first = c * CH;
    const end = Math.min(total, first + CH);
    const from = Math.max(0, first - M);
    const count = Math.max(0, end - M - from);
    const offset = Math.max(0, M - first);
    if (!count) return Promise.resolve({ buffer, from, count, offset, seconds: 0 });
    const w = workers[c % G]!;
    const p = new Promise<Reply>((ok, fail) => w.waiting.push({ ok, fail }));
    w.worker.postMessage({ buffer, from, count, offset }, [buffer]);
    return p;
  };
  const queue = s.buffers.slice(0, Math.min(G, chunks)).map((b, c) => ask(c, b));
  let spare = s.buffers[G]!;
  let generateSeconds = 0;
  let waitSeconds = 0;
  try {
    for (let c = 0; c < chunks; c++) {
      const t = performance.now();
      const r = await queue[c]!;
      waitSeconds += (performance.now() - t) / 1000;
      generateSeconds += r.seconds;
      // The next chunk of this generator goes into the spare buffer while this one is used.
      if (c + G < chunks) queue.push(ask(c + G, spare));
      const rows = new Float32Array(r.buffer);
      const first = c * CH;
      const n = Math.min(CH, total - first);
      for (let m = first; m < Math.min(first + n, M); m++) rows.set(mates[m]!, (m - first) * D);
      await onChunk(rows, n, first);
      spare = r.buffer;
    }
  } finally {
    await Promise.all(workers.map((w) => w.worker.terminate()));
  }
  return { generateSeconds, waitSeconds, generators: G };
}

/** Distractor i again, from its saved state: the same float32 values as when it was streamed. */
export function distractorRow(model: DistractorModel, states: Int32Array, i: number): Float32Array {
  const out = new Float32Array(D);
  sampleDistractors(model, 1, Gaussian.resume(states, i * 4), out);
  return out;
}

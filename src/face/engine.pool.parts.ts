import { Worker } from 'node:worker_threads';
import { VeilError, type ErrorCode } from '../errors.js';
import type { ImageFormat } from './image-format.js';
import type { Analysis, EmbeddedFace, FaceEngineOptions, StageTimings } from './engine.js';
import { currentTiming, type RequestTiming } from '../request-timing.js';

export interface PoolOptions {
  /** Worker threads; default one per core. */
  readonly size: number;
  /** Requests waiting beyond the ones running; more are refused with ENGINE_OVERLOADED. */
  readonly maxQueue: number;
  /**
   * One deadline per request, counted from submission: time waiting in the queue plus time running.
   * Past it the caller gets ENGINE_TIMEOUT. A worker that has run one request this long is replaced.
   */
  readonly timeoutMs: number;
  /** close() resolves within this even when a worker cannot be stopped (stuck in native code). */
  readonly closeTimeoutMs: number;
  readonly engine: Partial<FaceEngineOptions>;
}

export interface Job {
  id: number;
  op: 'detect' | 'analyze';
  bytes: Uint8Array;
  formats: ImageFormat[];
  /** Also run the liveness model (ImageCallOptions.liveness). */
  liveness: boolean;
  submitted: number;
  resolve: (v: Analysis<EmbeddedFace>) => void;
  reject: (e: unknown) => void;
  /** The caller's deadline (queue + run). */
  deadline: NodeJS.Timeout;
  /** The caller has been answered; a late result from the worker is dropped. */
  settled: boolean;
  /** The request's stage timing when VEIL_SERVER_TIMING is on (request-timing.ts). */
  timing?: RequestTiming | undefined;
  /** When it was posted to a worker (timed jobs only). */
  posted?: number;
}

export interface Slot {
  worker: Worker;
  job: Job | null;
  /** Fires when the worker has run its current job for timeoutMs: it is stuck, replace it. */
  overrun: NodeJS.Timeout | null;
}

export interface WorkerMessage {
  ready?: boolean;
  id?: number;
  result?: Analysis<EmbeddedFace>;
  error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
  /** The worker's own stage times, for a timed job. */
  stages?: StageTimings;
}

/** A job not answered within the pool's deadline, queued or running. */
export const engineTimeout = (timeoutMs: number, details: Record<string, unknown>) =>
  new VeilError('ENGINE_TIMEOUT', `The face engine did not answer within ${timeoutMs} ms.`, { timeoutMs, ...details });

/** A timed job at submission: the current request's timing, if any. */
export const timingOf = (): Pick<Job, 'timing'> => {
  const timing = currentTiming();
  return timing ? { timing } : {};
};

/** A timed job leaves the queue for a worker: its wait in the queue. */
export function timePosted(job: Job): void {
  if (!job.timing) return;
  job.posted = performance.now();
  job.timing.add('queue', job.posted - job.submitted);
}

/**
 * A timed job's answer arrived: the worker's stages, and `engine-ipc`, the rest of the round trip
 * (copying the message both ways, the worker's and this thread's event loops getting to it).
 */
export function timeAnswered(job: Job, stages: StageTimings | undefined): void {
  if (!job.timing || job.posted === undefined) return;
  let inWorker = 0;
  for (const [k, v] of Object.entries(stages ?? {})) {
    job.timing.add(k, v);
    inWorker += v;
  }
  job.timing.add('engine-ipc', Math.max(0, performance.now() - job.posted - inWorker));
}

// Workers start from a tiny ES module that registers tsx first: on Node 20 a worker's `--import`
// hooks are not in place before its entry file loads, so a .ts entry would be refused.
const workerBootstrap = new URL(
  'data:text/javascript,' +
    encodeURIComponent(
      `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n` +
        `register();\n` +
        `await import(${JSON.stringify(new URL('./engine.worker.ts', import.meta.url).href)});\n`,
    ),
);

/** A worker thread that loads its own FaceEngine and answers jobs posted to it. */
export function newWorker(engine: Partial<FaceEngineOptions>): Worker {
  return new Worker(workerBootstrap, { workerData: engine });
}

/** How long an overrun worker may take to finish the job it is stuck in before it is terminated anyway. */
export const DRAIN_MS = 30_000;

/**
 * An overrun worker is most likely inside ONNX Runtime, and terminating a thread there aborts the
 * whole process (a Napi::Error thrown during teardown). So it is left to finish its job, whose answer
 * is discarded (the caller already had ENGINE_TIMEOUT): this resolves once it is idle or gone, or
 * after `ms`, and the caller then stops it. Detached meanwhile, so it never holds the process up.
 */
export function drainWorker(worker: Worker, ms: number): Promise<void> {
  detach(worker);
  return new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    t.unref();
    const done = () => {
      clearTimeout(t);
      resolve();
    };
    worker.once('message', done);
    worker.once('exit', done);
  });
}

/**
 * Terminates a worker once. terminate() resolves only once the thread has finished any native call in
 * progress, which can take long; `stopping` holds the ones not stopped yet.
 */
export function stopWorker(worker: Worker, stopping: Map<Worker, Promise<void>>): Promise<void> {
  let p = stopping.get(worker);
  if (!p) {
    detach(worker);
    p = worker.terminate().then(
      () => void stopping.delete(worker),
      () => void stopping.delete(worker),
    );
    stopping.set(worker, p);
  }
  return p;
}

/** Out of service: its answers are ignored, its errors swallowed, and it never keeps the process alive. */
function detach(worker: Worker): void {
  worker.removeAllListeners('message');
  worker.on('error', () => undefined);
  worker.unref();
}

/** Resolves once `p` settles or `ms` have passed, whichever is first. */
export async function within(ms: number, p: Promise<unknown>): Promise<void> {
  let t: NodeJS.Timeout | undefined;
  await Promise.race([p, new Promise<void>((resolve) => (t = setTimeout(resolve, ms)))]);
  clearTimeout(t);
}

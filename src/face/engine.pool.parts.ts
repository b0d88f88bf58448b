import { Worker } from 'node:worker_threads';
import type { ErrorCode } from '../errors.js';
import type { ImageFormat } from './image-format.js';
import type { Analysis, EmbeddedFace, FaceEngineOptions } from './engine.js';

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

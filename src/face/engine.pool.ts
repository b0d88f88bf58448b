import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { VeilError, type ErrorCode } from '../errors.js';
import { MODELS } from './models.js';
import type { Analysis, DetectedFace, EmbeddedFace, FaceEngineOptions } from './engine.js';

export interface PoolOptions {
  /** Worker threads; default one per core. */
  readonly size: number;
  /** Requests waiting beyond the ones running; more are refused with ENGINE_OVERLOADED. */
  readonly maxQueue: number;
  /** Per-request limit; a late answer is dropped and the caller gets ENGINE_TIMEOUT. */
  readonly timeoutMs: number;
  readonly engine: Partial<FaceEngineOptions>;
}

interface Job {
  id: number;
  op: 'detect' | 'analyze';
  bytes: Uint8Array;
  resolve: (v: Analysis<EmbeddedFace>) => void;
  reject: (e: unknown) => void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  job: Job | null;
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

/**
 * A pool of worker threads, each holding its own loaded FaceEngine, so face work never blocks the
 * event loop and both cores are used (the ONNX sessions run single-threaded inside each worker).
 */
export class EnginePool {
  readonly modelId = MODELS.embedder.id;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private nextId = 1;
  private closed = false;

  private constructor(private readonly opts: PoolOptions) {}

  static async create(partial: Partial<PoolOptions> = {}): Promise<EnginePool> {
    const opts: PoolOptions = { size: availableParallelism(), maxQueue: 64, timeoutMs: 30_000, engine: {}, ...partial };
    const pool = new EnginePool(opts);
    await Promise.all(Array.from({ length: opts.size }, () => pool.spawn()));
    return pool;
  }

  get size(): number {
    return this.slots.length;
  }

  get queued(): number {
    return this.queue.length;
  }

  detect(bytes: Uint8Array): Promise<Analysis<DetectedFace>> {
    return this.submit('detect', bytes);
  }

  analyze(bytes: Uint8Array): Promise<Analysis<EmbeddedFace>> {
    return this.submit('analyze', bytes);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0))
      j.reject(new VeilError('ENGINE_OVERLOADED', 'The face engine is shutting down.'));
    await Promise.all(this.slots.map((s) => s.worker.terminate()));
  }

  private submit(op: Job['op'], bytes: Uint8Array): Promise<Analysis<EmbeddedFace>> {
    if (this.closed) return Promise.reject(new VeilError('ENGINE_OVERLOADED', 'The face engine is shutting down.'));
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(
        new VeilError('ENGINE_OVERLOADED', 'The face engine is busy; retry shortly.', { retryAfterSeconds: 1 }),
      );
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, op, bytes, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job || this.queue.length === 0) continue;
      const job = this.queue.shift()!;
      slot.job = job;
      job.timer = setTimeout(() => this.timeout(slot, job), this.opts.timeoutMs);
      slot.worker.postMessage({ id: job.id, op: job.op, bytes: job.bytes });
    }
  }

  /** A stuck inference cannot be interrupted inside ONNX Runtime: replace the worker. */
  private timeout(slot: Slot, job: Job): void {
    if (slot.job !== job) return;
    job.reject(new VeilError('ENGINE_TIMEOUT', `The face engine did not answer within ${this.opts.timeoutMs} ms.`));
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    void slot.worker.terminate();
    if (!this.closed)
      void this.spawn().then(
        () => this.pump(),
        () => undefined,
      );
  }

  private spawn(): Promise<void> {
    const worker = new Worker(workerBootstrap, { workerData: this.opts.engine });
    const slot: Slot = { worker, job: null };
    return new Promise((resolve, reject) => {
      worker.once('error', reject);
      worker.on(
        'message',
        (msg: {
          ready?: boolean;
          id?: number;
          result?: Analysis<EmbeddedFace>;
          error?: { code: ErrorCode; message: string; details?: Record<string, unknown> };
        }) => {
          if (msg.ready) {
            worker.off('error', reject);
            // A replacement that finished loading after close() must not keep the process alive.
            if (this.closed) {
              void worker.terminate();
              resolve();
              return;
            }
            worker.on('error', (e) => this.crashed(slot, e));
            this.slots.push(slot);
            resolve();
            this.pump();
            return;
          }
          const job = slot.job;
          if (!job || job.id !== msg.id) return;
          clearTimeout(job.timer);
          slot.job = null;
          if (msg.error) job.reject(new VeilError(msg.error.code, msg.error.message, msg.error.details));
          else job.resolve(msg.result!);
          this.pump();
        },
      );
    });
  }

  private crashed(slot: Slot, e: unknown): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.job) {
      clearTimeout(slot.job.timer);
      slot.job.reject(
        new VeilError('INTERNAL', `A face engine worker failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    if (!this.closed)
      void this.spawn().then(
        () => this.pump(),
        () => undefined,
      );
  }
}

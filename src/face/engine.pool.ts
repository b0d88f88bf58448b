import type { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';
import { VeilError } from '../errors.js';
import { MODELS } from './models.js';
import { narrowFormats, requireImageFormat, type ImageFormat } from './image-format.js';
import type { Analysis, DetectedFace, EmbeddedFace, ImageCallOptions } from './engine.js';
import {
  DRAIN_MS,
  drainWorker,
  within,
  stopWorker,
  newWorker,
  engineTimeout,
  timingOf,
  timePosted,
  timeAnswered,
  type Job,
  type PoolOptions,
  type Slot,
  type WorkerMessage,
} from './engine.pool.parts.js';

export type { PoolOptions } from './engine.pool.parts.js';

/**
 * A pool of worker threads, each holding its own loaded FaceEngine, so face work never blocks the
 * event loop and both cores are used (the ONNX sessions run single-threaded inside each worker).
 *
 * Bounds: bytes whose leading bytes are not an accepted image format are refused here, before they
 * take a place in the queue; every request is answered by its deadline (queued or running); a worker
 * that overruns is replaced at once and stopped once it has finished (detached meanwhile: native code,
 * libvips or ONNX Runtime, cannot be interrupted); close() never waits longer than closeTimeoutMs.
 */
const shuttingDown = () => new VeilError('ENGINE_OVERLOADED', 'The face engine is shutting down.');

export class EnginePool {
  readonly modelId: string;
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];
  private readonly starting = new Set<Worker>();
  private readonly stopping = new Map<Worker, Promise<void>>();
  private readonly draining = new Map<Worker, Promise<void>>();
  private nextId = 1;
  private closed = false;
  private closing: Promise<void> | null = null;
  private replaced = 0;

  private constructor(private readonly opts: PoolOptions) {
    this.modelId = opts.engine.embedder?.id ?? MODELS.embedder.id;
  }

  static async create(partial: Partial<PoolOptions> = {}): Promise<EnginePool> {
    const opts: PoolOptions = {
      size: availableParallelism(),
      maxQueue: 64,
      timeoutMs: 30_000,
      closeTimeoutMs: 5_000,
      engine: {},
      ...partial,
    };
    const pool = new EnginePool(opts);
    try {
      await Promise.all(Array.from({ length: opts.size }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Workers loaded and serving (a replacement counts once it has loaded its models). */
  get size(): number {
    return this.slots.length;
  }

  get queued(): number {
    return this.queue.length;
  }

  /** Workers told to stop that have not stopped yet (still inside a native call, or finishing a job). */
  get unstopped(): number {
    return new Set([...this.stopping.keys(), ...this.draining.keys()]).size;
  }

  /** Workers replaced so far because they overran or crashed. */
  get replacements(): number {
    return this.replaced;
  }

  detect(bytes: Uint8Array, call?: ImageCallOptions): Promise<Analysis<DetectedFace>> {
    return this.submit('detect', bytes, call);
  }

  analyze(bytes: Uint8Array, call?: ImageCallOptions): Promise<Analysis<EmbeddedFace>> {
    return this.submit('analyze', bytes, call);
  }

  /**
   * Refuses what is queued or running, terminates every worker and resolves once they have stopped or
   * closeTimeoutMs has passed, whichever is first. Safe to call more than once.
   */
  close(): Promise<void> {
    return (this.closing ??= this.shutdown());
  }

  private async shutdown(): Promise<void> {
    this.closed = true;
    for (const j of this.queue.splice(0)) this.answer(j, shuttingDown());
    for (const w of this.starting) void this.stop(w);
    for (const s of this.slots.splice(0)) {
      if (s.overrun) clearTimeout(s.overrun);
      // A busy worker is inside libvips or ONNX Runtime, where terminating it aborts the process (see
      // drainWorker): it finishes its job first, within the close bound; an idle one stops at once.
      if (!s.job) void this.stop(s.worker);
      else {
        this.answer(s.job, shuttingDown());
        this.drainThenStop(s.worker, this.opts.closeTimeoutMs);
      }
    }
    await within(this.opts.closeTimeoutMs, Promise.all([...this.stopping.values(), ...this.draining.values()]));
  }

  private submit(op: Job['op'], bytes: Uint8Array, call?: ImageCallOptions): Promise<Analysis<EmbeddedFace>> {
    if (this.closed) return Promise.reject(shuttingDown());
    let formats: ImageFormat[];
    try {
      formats = narrowFormats(this.opts.engine.decode?.formats, call?.formats);
      // The same gate the worker applies: refused bytes never wait in the queue or reach a worker.
      requireImageFormat(bytes, formats);
    } catch (e) {
      return Promise.reject(e);
    }
    if (this.queue.length >= this.opts.maxQueue) {
      return Promise.reject(
        new VeilError('ENGINE_OVERLOADED', 'The face engine is busy; retry shortly.', { retryAfterSeconds: 1 }),
      );
    }
    return new Promise((resolve, reject) => {
      const job: Job = {
        id: this.nextId++,
        op,
        bytes,
        formats,
        liveness: call?.liveness === true,
        submitted: performance.now(),
        resolve,
        reject,
        settled: false,
        deadline: setTimeout(() => this.expire(job), this.opts.timeoutMs),
        ...timingOf(),
      };
      this.queue.push(job);
      this.pump();
    });
  }

  private answer(job: Job, outcome: VeilError | Analysis<EmbeddedFace>): void {
    if (job.settled) return;
    job.settled = true;
    clearTimeout(job.deadline);
    if (outcome instanceof VeilError) job.reject(outcome);
    else job.resolve(outcome);
  }

  /** The caller's deadline passed: answer now, whether the job is still queued or running. */
  private expire(job: Job): void {
    const i = this.queue.indexOf(job);
    if (i >= 0) this.queue.splice(i, 1);
    const waited = Math.round(performance.now() - job.submitted);
    this.answer(job, engineTimeout(this.opts.timeoutMs, { elapsedMs: waited, stage: i >= 0 ? 'queued' : 'running' }));
    // A running job's worker carries on (its result will be dropped) until it answers or overruns.
  }

  private pump(): void {
    for (const slot of this.slots) {
      if (slot.job) continue;
      const job = this.queue.shift();
      if (!job) return;
      slot.job = job;
      slot.overrun = setTimeout(() => this.overran(slot), this.opts.timeoutMs);
      timePosted(job);
      const { id, op, bytes, formats, liveness } = job;
      slot.worker.postMessage({ id, op, bytes, formats, liveness, timed: job.timing !== undefined });
    }
  }

  /** A stuck inference or decode cannot be interrupted from here: replace the worker. */
  private overran(slot: Slot): void {
    slot.overrun = null;
    if (!this.slots.includes(slot)) return;
    if (slot.job) this.answer(slot.job, engineTimeout(this.opts.timeoutMs, { stage: 'running' }));
    this.retire(slot, true);
  }

  private crashed(slot: Slot, e: unknown): void {
    if (!this.slots.includes(slot)) return;
    if (slot.job) {
      this.answer(
        slot.job,
        new VeilError('INTERNAL', `A face engine worker failed: ${e instanceof Error ? e.message : String(e)}`),
      );
    }
    this.retire(slot);
  }

  /** Takes a slot out of service, stops its worker (or lets it drain) and starts a replacement straight away. */
  private retire(slot: Slot, drain = false): void {
    const i = this.slots.indexOf(slot);
    if (i >= 0) this.slots.splice(i, 1);
    if (slot.overrun) clearTimeout(slot.overrun);
    slot.overrun = null;
    slot.job = null;
    const w = slot.worker;
    // An overrun worker finishes its job before it is stopped (see drainWorker).
    if (drain) this.drainThenStop(w, DRAIN_MS);
    else void this.stop(w);
    if (!this.closed) {
      this.replaced++;
      this.replace(0);
    }
  }

  private replace(attempt: number): void {
    if (this.closed) return;
    this.spawn().then(
      () => this.pump(),
      () => {
        // A replacement that failed to start is retried, backing off up to 5 s between attempts.
        const t = setTimeout(() => this.replace(attempt + 1), Math.min(5_000, 250 * 2 ** attempt));
        t.unref();
      },
    );
  }

  private drainThenStop(w: Worker, ms: number): void {
    const done = drainWorker(w, ms).then(() => this.stop(w));
    const off = () => this.draining.delete(w);
    this.draining.set(w, done.finally(off));
  }

  private stop(worker: Worker): Promise<void> {
    this.starting.delete(worker);
    return stopWorker(worker, this.stopping);
  }

  private spawn(): Promise<void> {
    const worker = newWorker(this.opts.engine);
    const slot: Slot = { worker, job: null, overrun: null };
    this.starting.add(worker);
    return new Promise((resolve, reject) => {
      let settled = false;
      const failed = (e: unknown) => {
        if (settled) return;
        settled = true;
        void this.stop(worker);
        reject(e);
      };
      worker.once('error', failed);
      worker.once('exit', (code) => {
        // Before it was ready (a load failure, or stopped by close()) the start fails; after, it crashed.
        if (!settled) failed(new Error(`a face engine worker exited with code ${code} while starting`));
        else this.crashed(slot, new Error(`exited with code ${code}`));
      });
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.ready) {
          settled = true;
          worker.off('error', failed);
          // A replacement that finished loading after close() must not keep the process alive.
          if (this.closed || !this.starting.has(worker)) {
            void this.stop(worker);
            resolve();
            return;
          }
          this.starting.delete(worker);
          worker.on('error', (e) => this.crashed(slot, e));
          this.slots.push(slot);
          resolve();
          this.pump();
          return;
        }
        const job = slot.job;
        if (!job || job.id !== msg.id) return;
        if (slot.overrun) clearTimeout(slot.overrun);
        slot.overrun = null;
        slot.job = null;
        timeAnswered(job, msg.stages);
        if (msg.error) this.answer(job, new VeilError(msg.error.code, msg.error.message, msg.error.details));
        else this.answer(job, msg.result!);
        this.pump();
      });
    });
  }
}

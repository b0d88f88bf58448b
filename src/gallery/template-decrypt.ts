import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { MasterKey } from '../privacy/keys.js';

/** One batch of sealed templates, packed so that posting it copies a few buffers, not one per row. */
export interface DecryptJob {
  readonly id: number;
  readonly dims: number;
  readonly ids: readonly string[];
  readonly subjectIds: readonly string[];
  readonly purposeIds: readonly string[];
  readonly slots: Uint32Array;
  /** Row i's sealed template is sealed[sealedAt[i], sealedAt[i + 1]). */
  readonly sealed: ArrayBuffer;
  readonly sealedAt: Uint32Array;
  /** Row i's wrapped data key at i * wrappedBytes, wrappedLength[i] bytes (0: no live key, skip the row). */
  readonly wrapped: ArrayBuffer;
  readonly wrappedBytes: number;
  readonly wrappedLength: Uint16Array;
}

export type DecryptReply =
  | { readonly id: number; readonly vectors: Float32Array; readonly ok: Uint8Array; readonly error?: undefined }
  | { readonly id: number; readonly error: string };

/** A row to decrypt: its sealed template and its owner's wrapped data key (null: destroyed, skip it). */
export interface SealedRow {
  readonly id: string;
  readonly subjectId: string;
  readonly purposeId: string;
  readonly slot: number;
  readonly sealed: Uint8Array;
  readonly wrapped: Uint8Array | null;
}

// Workers start from a tiny ES module that registers tsx first (as the engine pool's do).
const bootstrap = new URL(
  'data:text/javascript,' +
    encodeURIComponent(
      `import { register } from ${JSON.stringify(import.meta.resolve('tsx/esm/api'))};\n` +
        `register();\n` +
        `await import(${JSON.stringify(new URL('./template-decrypt.worker.ts', import.meta.url).href)});\n`,
    ),
);

/**
 * Decrypts templates for the start-up rebuild on worker threads, one per core: unwrapping a data key
 * and opening a template are two AES-GCM operations of a few microseconds each, most of it per-call
 * set-up, so a million templates are CPU-bound; the main thread meanwhile reads the next page and
 * fills the index. The master key is copied to each worker once and zeroed there after import.
 */
export class DecryptPool {
  private readonly workers: Worker[];
  private next = 0;
  private readonly waiting = new Map<number, { ok: (r: DecryptReply) => void; fail: (e: Error) => void }>();

  constructor(master: MasterKey, size = Math.max(1, Math.min(4, availableParallelism()))) {
    this.workers = Array.from({ length: size }, () => {
      const w = new Worker(bootstrap, { workerData: { master: master.bytes() } });
      w.on('message', (r: DecryptReply) => {
        const p = this.waiting.get(r.id);
        this.waiting.delete(r.id);
        p?.ok(r);
      });
      w.on('error', (e) => this.failAll(e));
      return w;
    });
  }

  private failAll(e: Error): void {
    for (const p of this.waiting.values()) p.fail(e);
    this.waiting.clear();
  }

  /** The rows' vectors (rows x dims) and which rows were opened; rows are split across the workers. */
  async decrypt(rows: readonly SealedRow[], dims: number): Promise<{ vectors: Float32Array; ok: Uint8Array }> {
    const parts = this.workers.length;
    const per = Math.ceil(rows.length / parts);
    const replies = await Promise.all(
      this.workers.map((w, p) => this.post(w, rows.slice(p * per, (p + 1) * per), dims)),
    );
    const vectors = new Float32Array(rows.length * dims);
    const ok = new Uint8Array(rows.length);
    replies.forEach((r, p) => {
      vectors.set(r.vectors, p * per * dims);
      ok.set(r.ok, p * per);
      r.vectors.fill(0);
    });
    return { vectors, ok };
  }

  private post(
    w: Worker,
    rows: readonly SealedRow[],
    dims: number,
  ): Promise<{ vectors: Float32Array; ok: Uint8Array }> {
    if (!rows.length) return Promise.resolve({ vectors: new Float32Array(0), ok: new Uint8Array(0) });
    const job = pack(this.next++, rows, dims);
    return new Promise((ok, fail) => {
      this.waiting.set(job.id, {
        ok: (r) => (r.error === undefined ? ok(r) : fail(new Error(`template decryption failed: ${r.error}`))),
        fail,
      });
      w.postMessage(job, [job.sealed, job.wrapped]);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

function pack(id: number, rows: readonly SealedRow[], dims: number): DecryptJob {
  const n = rows.length;
  const sealedAt = new Uint32Array(n + 1);
  for (let i = 0; i < n; i++) sealedAt[i + 1] = sealedAt[i]! + rows[i]!.sealed.length;
  const sealed = new Uint8Array(sealedAt[n]!);
  const wrappedBytes = Math.max(1, ...rows.map((r) => r.wrapped?.length ?? 0));
  const wrapped = new Uint8Array(n * wrappedBytes);
  const wrappedLength = new Uint16Array(n);
  const slots = new Uint32Array(n);
  rows.forEach((r, i) => {
    sealed.set(r.sealed, sealedAt[i]!);
    slots[i] = r.slot;
    if (r.wrapped) {
      wrapped.set(r.wrapped, i * wrappedBytes);
      wrappedLength[i] = r.wrapped.length;
    }
  });
  return {
    id,
    dims,
    ids: rows.map((r) => r.id),
    subjectIds: rows.map((r) => r.subjectId),
    purposeIds: rows.map((r) => r.purposeId),
    slots,
    sealed: sealed.buffer,
    sealedAt,
    wrapped: wrapped.buffer,
    wrappedBytes,
    wrappedLength,
  };
}

// Worker-thread host for one FaceEngine: models load once per worker, requests stream in.
import { parentPort, workerData } from 'node:worker_threads';
import { FaceEngine, type FaceEngineOptions } from './engine.js';
import type { ImageFormat } from './image-format.js';
import { VeilError } from '../errors.js';

interface Request {
  id: number;
  op: 'detect' | 'analyze';
  bytes: Uint8Array;
  /** The formats this call accepts (already narrowed by the pool). */
  formats: ImageFormat[];
  liveness?: boolean;
  /** Report this job's stage times (VEIL_SERVER_TIMING). */
  timed?: boolean;
}

const port = parentPort;
if (!port) throw new Error('engine.worker must run in a worker thread');
const engine = await FaceEngine.create(workerData as Partial<FaceEngineOptions>);
port.postMessage({ ready: true });
port.on('message', async (req: Request) => {
  try {
    const call = { formats: req.formats, liveness: req.liveness === true };
    const stages = req.timed ? { decode: 0, detect: 0, align: 0, embed: 0 } : undefined;
    const result =
      req.op === 'analyze'
        ? await engine.analyze(req.bytes, call, stages)
        : await engine.detect(req.bytes, call, stages);
    const transfer = result.faces.flatMap((f) =>
      'embedding' in f ? [(f as { embedding: Float32Array }).embedding.buffer as ArrayBuffer] : [],
    );
    port.postMessage({ id: req.id, result, ...(stages ? { stages } : {}) }, transfer);
  } catch (e) {
    const err =
      e instanceof VeilError
        ? { code: e.code, message: e.message, details: e.details }
        : { code: 'INTERNAL', message: 'The face engine failed.' };
    port.postMessage({ id: req.id, error: err });
  }
});

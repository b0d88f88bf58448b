// One searcher of the concurrency-2 run: its own quantised index over the shared rows (as each API
// process has its own), built like AdaptiveIndex builds it, then every probe timed once (the int8
// candidates re-scored on exact vectors, as GalleryIndex does), once per pre-selection share asked.
import { parentPort, workerData } from 'node:worker_threads';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { QUANTISE_FROM } from '../../src/vector/adaptive-index.js';
import { rescoreExactly } from '../../src/vector/exact-rescore.js';
import type { Int8Kernel } from '../../src/vector/int8-stage.js';

const { rows, n, probes } = workerData as { rows: SharedArrayBuffer; n: number; probes: Float32Array[] };
const D = 512;
const all = new Float32Array(rows, 0, n * D);
const first = Math.min(n, QUANTISE_FROM);
const idx = QuantizedIndex.centredOn(
  (function* () {
    for (let r = 0; r < first; r++) yield all.subarray(r * D, (r + 1) * D);
  })(),
  n,
);
for (let r = 0; r < n; r++) idx.add(`t${r}`, all.subarray(r * D, (r + 1) * D));
parentPort!.postMessage({ ready: true });
// The exact vectors of the candidates, from the shared rows (the service reads them from the store).
const exact = async (ids: readonly string[]) =>
  new Map(ids.map((id) => [id, all.subarray(Number(id.slice(1)) * D, (Number(id.slice(1)) + 1) * D)] as const));
type Config = { share: number; divisor: number; kernel: Int8Kernel; threads: number };
parentPort!.on('message', async ({ share, divisor, kernel, threads }: Config) => {
  // Each searcher thread has its own search helper: four threads on two cores.
  QuantizedIndex.threads = threads;
  idx.preselect = share;
  idx.int8Kernel = kernel;
  idx.candidates = (m, k) => Math.max(4 * k, Math.min(32_768, Math.max(512, Math.ceil(m / divisor))));
  const ms: number[] = [];
  for (const p of probes) {
    const t = performance.now();
    await rescoreExactly(idx.search(p, 20, { threshold: 0.41 }), p, 20, 0.41, exact);
    ms.push(performance.now() - t);
  }
  parentPort!.postMessage({ ms });
});

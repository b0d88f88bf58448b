// One searcher of the concurrency-2 run: its own quantised index over the shared rows (as each API
// process has its own), built like AdaptiveIndex builds it, then every probe timed once.
import { parentPort, workerData } from 'node:worker_threads';
import { QuantizedIndex } from '../../src/vector/quantized-index.js';
import { QUANTISE_FROM } from '../../src/vector/adaptive-index.js';

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
parentPort!.once('message', () => {
  const ms: number[] = [];
  for (const p of probes) {
    const t = performance.now();
    idx.search(p, 20, { threshold: 0.41 });
    ms.push(performance.now() - t);
  }
  parentPort!.postMessage({ ms });
});

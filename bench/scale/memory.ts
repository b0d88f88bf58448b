// Memory at scale, alone: MEMORY_N (default 10,000,000) templates added through GalleryIndex.add as
// the rebuild adds them (ids of the store's length, one subject each, one purpose), and the process
// RSS measured every million. What a template costs in memory does not depend on its values, so the
// vectors are 4,096 random unit vectors used in turn (no 20 GB of float rows to hold, unlike
// scale.bench.ts, whose rows must stay for the exact reference). Prints one JSON line.
import { fileURLToPath } from 'node:url';
import { GalleryIndex } from '../../src/vector/gallery-index.js';
import type { PurposeId, SubjectId, TemplateId } from '../../src/ids.js';

export function measureMemory(n: number, log: (s: string) => void) {
  const D = 512;
  const rows = new Float32Array(4096 * D);
  for (let r = 0; r < 4096; r++) {
    let s = 0;
    for (let j = 0; j < D; j++) s += (rows[r * D + j] = Math.random() - 0.5) ** 2;
    for (let j = 0; j < D; j++) rows[r * D + j]! /= Math.sqrt(s);
  }
  const rss = () => process.memoryUsage().rss;
  const before = rss();
  const index = new GalleryIndex(D, { exact: async () => new Map() });
  const pid = 'pur_memorybench000000' as PurposeId;
  const id = (prefix: string, r: number) => `${prefix}_${r.toString(36).padStart(16, '0')}`;
  const steps: { templates: number; rssMb: number; bytesPerTemplate: number }[] = [];
  const t0 = performance.now();
  for (let r = 0; r < n; r++) {
    const at = (r & 4095) * D;
    index.add({
      templateId: id('tpl', r) as TemplateId,
      subjectId: id('sub', r) as SubjectId,
      purposeId: pid,
      vector: rows.subarray(at, at + D),
    });
    if ((r + 1) % 1_000_000 === 0 || r + 1 === n) {
      const now = rss();
      steps.push({ templates: r + 1, rssMb: now / 2 ** 20, bytesPerTemplate: (now - before) / (r + 1) });
      log(
        `${r + 1} templates, RSS ${(now / 2 ** 20).toFixed(0)} MB, ${((now - before) / (r + 1)).toFixed(0)} B/template`,
      );
    }
  }
  return {
    templates: n,
    addSeconds: (performance.now() - t0) / 1000,
    processRssMb: rss() / 2 ** 20,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    bytesPerTemplate: (rss() - before) / n,
    steps,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const n = Number(process.env['MEMORY_N'] ?? 10_000_000);
  const r = measureMemory(n, (s) => process.stderr.write(`memory: ${s}\n`));
  process.stdout.write(JSON.stringify(r) + '\n');
}

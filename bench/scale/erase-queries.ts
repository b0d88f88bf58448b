// Where an erasure's time goes in SQL: every statement better-sqlite3 runs during ERASE_N erasures
// through the lifecycle, timed and summed by its text, at a data directory seeded by
// bench/scale/snapshot.ts (SNAPSHOT_SEED_ONLY=1). SQLite only. The segment rewrite is held off, so
// that only the erasures' own statements are counted. What found migration 19's two scans.
//
//   ERASE_DIR=/tmp/erase-1m [ERASE_N=4] node --import tsx bench/scale/erase-queries.ts
import Database from 'better-sqlite3';
import { actors } from '../../src/auth/actor.js';
import type { SubjectId } from '../../src/ids.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';

const dataDir = process.env['ERASE_DIR'];
if (!dataDir) throw new Error('ERASE_DIR: a data directory seeded by bench/scale/snapshot.ts');
const n = Number(process.env['ERASE_N'] ?? 4);
type Statement = Record<string, (...a: unknown[]) => unknown>;
const proto = (Database as unknown as { prototype: { prepare: (...a: unknown[]) => Statement } }).prototype;
const prepare = proto.prepare;
const times = new Map<string, { n: number; ms: number }>();
let counting = false;
proto.prepare = function (this: unknown, ...a: unknown[]) {
  const st = prepare.apply(this, a);
  for (const m of ['all', 'run', 'get', 'iterate']) {
    const f = st[m]!;
    st[m] = (...b: unknown[]) => {
      const t = performance.now();
      try {
        return f.apply(st, b);
      } finally {
        if (counting) {
          const k = String(a[0]).slice(0, 140);
          const e = times.get(k) ?? { n: 0, ms: 0 };
          times.set(k, { n: e.n + 1, ms: e.ms + performance.now() - t });
        }
      }
    };
  }
  return st;
};
const { openVeil } = await import('../../src/app/veil.js');
const v = await openVeil({ dataDir, engine: new FakeAnalyzer(), env: {}, index: { rewriteDelayMs: 3_600_000 } });
const ids = v.index.templateIds();
const ms: number[] = [];
counting = true;
for (let i = 0; i < n; i++) {
  const subject = v.index.ownerOf(ids[Math.floor(((i + 0.3) * ids.length) / n)]!)!.subjectId as SubjectId;
  const t = performance.now();
  await v.lifecycle.erase([subject], actors.system('bench'), null);
  ms.push(performance.now() - t);
}
counting = false;
await v.close();
console.log(`${n} erasures among ${ids.length} templates: ${ms.map((x) => x.toFixed(0)).join(', ')} ms`);
console.table(
  [...times]
    .sort((x, y) => y[1].ms - x[1].ms)
    .slice(0, 12)
    .map(([sql, e]) => ({ ms: Number(e.ms.toFixed(1)), runs: e.n, sql })),
);

// Audit log: append throughput (single and batched), proof generation at 1M entries, and the
// standalone verifier on a 1M-entry export. SQLite in a temp dir.
import { createWriteStream, readFileSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { openSqliteStore } from '../src/store/store.js';
import { AuditLog } from '../src/audit/audit.log.js';
import { loadOrCreateSigningKey } from '../src/audit/signing-key.js';
import { verifyExport } from '../src/audit/verify.js';
import { verifyInclusion } from '../src/audit/merkle.js';
import { systemClock } from '../src/clock.js';
import type { AuditInput } from '../src/audit/entry.js';
import { tempDir } from '../support/database.js';
import { median, percentile } from './stats.js';

const TOTAL = Number(process.env['AUDIT_BENCH_ENTRIES'] ?? 1_000_000);
const dir = tempDir('veil-audit-bench-');
const store = await openSqliteStore(join(dir, 'veil.db'));
const audit = new AuditLog(
  { clock: systemClock, key: loadOrCreateSigningKey(dir, undefined).key },
  { checkpointEvery: 1000, checkpointSeconds: 60 },
);
await audit.init(store.db);
const entry = (i: number): AuditInput => ({
  actor: { kind: 'api-key', id: `k${i % 7}` },
  action: 'search.performed',
  purposeId: 'event-photos',
  subjectIds: [`subj-${i % 5000}`],
  detail: { caseRef: `case-${i}`, returned: i % 3 },
});

let t = performance.now();
const SINGLE = 2000;
for (let i = 0; i < SINGLE; i++) await store.transaction((tx) => audit.append(tx, entry(i)));
const singlePerSec = SINGLE / ((performance.now() - t) / 1000);

t = performance.now();
const BATCH = 1000;
let n = SINGLE;
while (n < TOTAL) {
  const k = Math.min(BATCH, TOTAL - n);
  await store.transaction((tx) =>
    audit.appendMany(
      tx,
      Array.from({ length: k }, (_, j) => entry(n + j)),
    ),
  );
  n += k;
}
const batchedPerSec = (TOTAL - SINGLE) / ((performance.now() - t) / 1000);

const head = await audit.latestHead(store.db);
const proofMs: number[] = [];
let ok = true;
for (let i = 0; i < 500; i++) {
  const seq = 1 + Math.floor(Math.random() * head.size);
  const s = performance.now();
  const p = await audit.inclusionProof(store.db, seq, head);
  proofMs.push(performance.now() - s);
  ok &&= verifyInclusion(
    seq - 1,
    head.size,
    Buffer.from(p.leafHash, 'hex'),
    p.proof.map((x) => Buffer.from(x, 'hex')),
    Buffer.from(head.rootHash, 'hex'),
  );
}

t = performance.now();
const file = join(dir, 'export.jsonl');
const out = createWriteStream(file);
for await (const line of audit.exportLines(store.db))
  if (!out.write(JSON.stringify(line) + '\n')) await once(out, 'drain');
out.end();
await once(out, 'finish');
const exportMs = performance.now() - t;

t = performance.now();
const r = verifyExport(readFileSync(file, 'utf8').split('\n'), { trustedPublicKeys: [audit.publicKeyPem] });
const verifyMs = performance.now() - t;
const dbMb = statSync(join(dir, 'veil.db')).size / 2 ** 20;
await store.close();
rmSync(dir, { recursive: true, force: true });

process.stdout.write(
  JSON.stringify({
    entries: TOTAL,
    appendPerSecond: { singlePerTransaction: singlePerSec, batched1000: batchedPerSec },
    proofMs: { median: median(proofMs), p99: percentile(proofMs, 99), allVerified: ok },
    exportSeconds: exportMs / 1000,
    verifySeconds: verifyMs / 1000,
    verifyOk: r.ok,
    headsVerified: r.headsVerified,
    dbMb,
  }) + '\n',
);

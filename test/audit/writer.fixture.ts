// A second process appending to the same audit log (used by the concurrency test).
import { join } from 'node:path';
import { openStore } from '../../src/store/store.js';
import { AuditLog } from '../../src/audit/audit.log.js';
import { loadOrCreateSigningKey } from '../../src/audit/signing-key.js';
import { systemClock } from '../../src/clock.js';

const [dir, tag, count] = process.argv.slice(2) as [string, string, string];
const store = await openStore({ databaseUrl: process.env['DATABASE_URL'], sqlitePath: join(dir, 'veil.db') });
const audit = new AuditLog(
  {
    clock: systemClock,
    key: loadOrCreateSigningKey(dir, undefined).key,
    serialize: (tx) => store.serializeAudit(tx as never),
  },
  { checkpointEvery: 10, checkpointSeconds: 60 },
);
for (let i = 0; i < Number(count); i++) {
  await store.transaction(async (tx) => {
    await audit.append(tx, { actor: { kind: 'system', id: tag }, action: 'search.performed', detail: { i } });
    if (i % 3 === 0)
      await audit.append(tx, { actor: { kind: 'system', id: tag }, action: 'verify.performed', detail: { i } });
  });
  if (i % 3 === 0) i++;
  // Yield so the other process interleaves.
  await new Promise((r) => setImmediate(r));
}
await store.close();

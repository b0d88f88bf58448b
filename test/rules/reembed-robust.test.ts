import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/clock.js';
import { VeilError } from '../../src/errors.js';
import type { ImageOptions } from '../../src/face/analyzer.js';
import type { Analysis, EmbeddedFace } from '../../src/face/engine.js';
import { MODELS } from '../../src/face/models.js';
import { REEMBED_LEASE_MS } from '../../src/gallery/reembed-runs.service.js';
import { openStore } from '../../src/store/store.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { OldModel, endOf, settle, switchGallery, templateCounts } from './model-switch.fixture.js';
import { heldAtAudit } from './held-audit.js';
import { admin, code } from './fixture.js';

// Re-embedding runs where processes disagree or stop: a rolling switch (two processes on two active
// models), a stalled run finishing after another took over, an unexpected failure in the background,
// and a start racing the process's shutdown.

const T0 = '2026-06-01T10:00:00.000Z';
const NEW = MODELS.embedder.id;

const mismatch = (e: unknown) => (e instanceof VeilError && e.code === 'MODEL_MISMATCH' ? e.details : undefined);

test('a rolling switch: a process still on the old model does not undo the new model’s run unless the old model is named', async () => {
  const { open } = await switchGallery(2, T0);
  const [fresh, stale] = [await open(new FakeAnalyzer()), await open(new OldModel())];
  const forward = await settle(fresh, (await fresh.models.startReembed(admin)).id);
  assert.deepEqual([forward.state, forward.report?.reembedded], ['done', 2]);

  // The old process, started plainly (a load balancer sent it the request): refused, naming the run it would undo.
  for (const start of [() => stale.models.startReembed(admin), () => stale.models.reembed(admin, { dryRun: true })]) {
    const refused = await start().catch(mismatch);
    assert.deepEqual(refused, { runId: forward.id, model: NEW, active: 'old-model@1' });
  }
  // Naming a target it does not run: refused too, before any lease is taken.
  const named = await stale.models.startReembed(admin, { model: NEW }).catch(mismatch);
  assert.deepEqual(named, { model: NEW, active: 'old-model@1' });
  assert.deepEqual(await templateCounts(fresh), { [NEW]: 2 });
  assert.equal(await stale.store.db.selectFrom('job_leases').select('holder').executeTakeFirst(), undefined);

  // A rollback is deliberate: the old model named, the run goes; then the new process is the one refused.
  assert.equal((await stale.models.reembed(admin, { model: 'old-model@1' })).reembedded, 2);
  assert.deepEqual(await templateCounts(stale), { 'old-model@1': 2 });
  assert.equal(await code(fresh.models.startReembed(admin)), 'MODEL_MISMATCH');
  await Promise.all([fresh.close(), stale.close()]);
});

test('a stalled run that ends after another took over its lease leaves the run abandoned, not done', async () => {
  const { open } = await switchGallery(1, T0);
  const hung = new GatedEngine(new FakeAnalyzer());
  const a = await open(hung);
  const stalled = await a.models.startReembed(admin);
  await hung.reached(1); // its one template in hand; no heartbeat comes before it ends

  const clock = new ManualClock(T0);
  const b = await open(new FakeAnalyzer(), clock);
  clock.advance(REEMBED_LEASE_MS + 1);
  const taker = await settle(b, (await b.models.startReembed(admin)).id);
  assert.deepEqual([taker.state, taker.report?.reembedded], ['done', 1]);

  hung.release(); // the stalled run finds its template replaced and has nothing left: it ends at once
  const end = await endOf(a, stalled.id);
  assert.deepEqual([end['state'], end['error']], ['failed', 'JOB_ABANDONED']);
  for (const v of [a, b]) {
    const shown = await v.models.reembedRun(admin, stalled.id);
    assert.deepEqual([shown.state, shown.error?.code, shown.report], ['failed', 'JOB_ABANDONED', undefined]);
  }
  assert.deepEqual(await templateCounts(b), { [NEW]: 1 });
  await Promise.all([a.close(), b.close()]);
});

/** The active engine breaks the way a library does: a plain error whose message carries the vector. */
class Broken extends FakeAnalyzer {
  override async analyze(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<EmbeddedFace>> {
    const { faces } = await super.analyze(bytes, opts);
    throw new RangeError(`tensor shape mismatch in [${Array.from(faces[0]!.embedding).join(', ')}]`);
  }
}

test('an unexpected error in a background run is logged with the run id, message and stack, and no face data', async () => {
  const { open } = await switchGallery(1, T0);
  const lines: { message: string; fields: Record<string, string> }[] = [];
  const log = { error: (message: string, fields: Record<string, string>) => void lines.push({ message, fields }) };
  const v = await open(new Broken(), undefined, { log });
  const run = await settle(v, (await v.models.startReembed(admin)).id);
  assert.deepEqual([run.state, run.error?.code], ['failed', 'INTERNAL']);
  assert.equal(lines.length, 1);
  const [{ message, fields }] = lines as [(typeof lines)[0]];
  assert.match(message, /re-embedding run/);
  assert.equal(fields['runId'], run.id);
  assert.match(fields['error']!, /^RangeError: tensor shape mismatch in \[/);
  assert.match(fields['stack']!, /\n\s+at .*reembed-robust\.test\.ts/, 'the stack down to where it was thrown');
  // No run of numbers (an embedding's components) survives anywhere in what was logged.
  assert.doesNotMatch(JSON.stringify(lines), /(-?\d+(\.\d+)?(e-?\d+)?,\s*){3}/);
  await v.close();
});

test('a start racing close() is waited for and ends cancelled, its lease given up; a closed service refuses starts', async () => {
  const { open, dataDir, db } = await switchGallery(2, T0);
  const real = await openStore({ databaseUrl: db.databaseUrl, sqlitePath: join(dataDir, 'veil.db') });
  const { store, arm } = heldAtAudit(real);
  const v = await open(new FakeAnalyzer(), undefined, { store });
  const { atHold, go } = arm();
  const starting = v.models.startReembed(admin);
  await atHold; // the start has taken the lease and is writing its run
  const closing = v.close();
  await Promise.race([closing, sleep(300)]); // a close that does not wait is over by now
  go();
  const [started, closed] = await Promise.allSettled([starting, closing]);
  assert.equal(closed.status, 'fulfilled');
  assert.ok(started.status === 'fulfilled', String((started as PromiseRejectedResult).reason));
  assert.equal(await code(v.models.startReembed(admin)), 'SHUTTING_DOWN');

  // The next process starts at once (its clock has not moved): nothing was left holding the lease.
  const next = await open(new FakeAnalyzer());
  const first = await next.models.reembedRun(admin, started.value.id);
  assert.deepEqual([first.state, first.progress.done], ['cancelled', 0]);
  const rest = await settle(next, (await next.models.startReembed(admin)).id);
  assert.deepEqual([rest.state, rest.report?.reembedded], ['done', 2]);
  await next.close();
});

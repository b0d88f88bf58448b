import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ManualClock } from '../../src/clock.js';
import type { ImageOptions } from '../../src/face/analyzer.js';
import type { Analysis, EmbeddedFace } from '../../src/face/engine.js';
import { MODELS } from '../../src/face/models.js';
import { reportError } from '../../src/cli/output.js';
import { REEMBED_LEASE_MS } from '../../src/gallery/reembed-runs.service.js';
import { openStore, type Store } from '../../src/store/store.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { OldModel, endOf, settle, switchGallery, templateCounts } from './model-switch.fixture.js';
import { admin, code } from './fixture.js';

// Re-embedding runs where one process stalls or the record of the runs' direction thins out:
// the cases a review of the robustness fixes (reembed-robust.test.ts) found still open.

const T0 = '2026-06-01T10:00:00.000Z';
const NEW = MODELS.embedder.id;

/** A store whose next transaction, once armed, waits before it begins: a process stalled between two steps. */
function heldAtBegin(real: Store) {
  let hold: Promise<void> | null = null;
  let held!: () => void;
  const atHold = new Promise<void>((r) => (held = r));
  const store: Store = {
    ...real,
    transaction: async (fn) => {
      const h = hold;
      hold = null;
      if (h) {
        held();
        await h;
      }
      return real.transaction(fn);
    },
  };
  const arm = () => {
    let go!: () => void;
    hold = new Promise<void>((r) => (go = r));
    return { atHold, go };
  };
  return { store, arm };
}

test('a start stalled past its lease before recording its run is refused, and the run that took over stays running', async () => {
  const { open, dataDir, db } = await switchGallery(1, T0);
  const real = await openStore({ databaseUrl: db.databaseUrl, sqlitePath: join(dataDir, 'veil.db') });
  const { store, arm } = heldAtBegin(real);
  const a = await open(new FakeAnalyzer(), undefined, { store });
  const { atHold, go } = arm();
  const stalled = code(a.models.startReembed(admin));
  await atHold; // the lease taken, the run not yet recorded

  const clock = new ManualClock(T0);
  clock.advance(REEMBED_LEASE_MS + 1);
  const gate = new GatedEngine(new FakeAnalyzer());
  const b = await open(gate, clock);
  const taker = await b.models.startReembed(admin);
  await gate.reached(1); // the taker holds its one template

  go();
  assert.equal(await stalled, 'JOB_RUNNING');
  assert.equal((await b.models.reembedRun(admin, taker.id)).state, 'running');
  gate.release();
  const end = await settle(b, taker.id);
  assert.deepEqual([end.state, end.report?.reembedded], ['done', 1]);
  assert.deepEqual(await templateCounts(b), { [NEW]: 1 });
  await Promise.all([a.close(), b.close()]);
});

test('the runs’ direction outlives the dry runs after it: the runs kept never drop the latest that changed templates', async () => {
  const { open } = await switchGallery(1, T0);
  const clock = new ManualClock(T0);
  const [fresh, stale] = [await open(new FakeAnalyzer(), clock), await open(new OldModel(), clock)];
  const forward = await settle(fresh, (await fresh.models.startReembed(admin)).id);
  assert.deepEqual([forward.state, forward.report?.reembedded], ['done', 1]);
  // A dry run a minute, as a watcher checking what is left would: more of them than the runs kept.
  for (let i = 0; i < 25; i++) {
    clock.advance(60_000);
    assert.equal((await fresh.models.reembed(admin, { dryRun: true })).reembedded, 0);
  }
  assert.equal(await code(stale.models.startReembed(admin)), 'MODEL_MISMATCH');
  assert.deepEqual(await templateCounts(fresh), { [NEW]: 1 });
  assert.equal((await fresh.models.reembedRuns(admin)).length, 20, 'the list still shows the latest 20');
  await Promise.all([fresh.close(), stale.close()]);
});

/** The active engine fails quoting the vector as code often prints one: JSON, quoted, or encoded url-safe. */
class Quoting extends FakeAnalyzer {
  said: Float32Array[] = [];
  override async analyze(bytes: Uint8Array, opts?: ImageOptions): Promise<Analysis<EmbeddedFace>> {
    const { faces } = await super.analyze(bytes, opts);
    const v = Float32Array.from(faces[0]!.embedding);
    this.said.push(v);
    const bytesOf = Buffer.from(v.buffer).toString('base64url');
    throw new Error(`bad input ${JSON.stringify(v)} as ${JSON.stringify(Array.from(v, String))} sealed ${bytesOf}`);
  }
}

test('an unexpected error quoting a vector as JSON, as strings or in base64url is logged without it', async () => {
  const { open } = await switchGallery(1, T0);
  const lines: unknown[] = [];
  const engine = new Quoting();
  const v = await open(engine, undefined, {
    log: { error: (message, fields) => void lines.push({ message, fields }) },
  });
  const run = await settle(v, (await v.models.startReembed(admin)).id);
  assert.deepEqual([run.state, run.error?.code, lines.length], ['failed', 'INTERNAL', 1]);
  const told = JSON.stringify(lines);
  const [vector] = engine.said as [Float32Array];
  const components = Array.from(vector, String).filter((c) => c.length > 6);
  assert.ok(components.length > 100, 'the fake vector has components worth hiding');
  assert.deepEqual(
    components.filter((c) => told.includes(c)),
    [],
    'no component of the vector is in the log',
  );
  const encoded = Buffer.from(vector.buffer).toString('base64url');
  const pieces = Array.from({ length: encoded.length / 16 - 1 }, (_, i) => encoded.slice(i * 16, i * 16 + 16));
  assert.deepEqual(
    pieces.filter((p) => told.includes(p)),
    [],
    'no piece of the encoded vector is in the log',
  );
  await v.close();
});

test('a foreground run (the CLI) failing on such an error tells the command line no more than the log', async () => {
  const { open } = await switchGallery(1, T0);
  const lines: unknown[] = [];
  const engine = new Quoting();
  const v = await open(engine, undefined, {
    log: { error: (message, fields) => void lines.push({ message, fields }) },
  });
  const printed: string[] = [];
  const failed = await v.models.reembed(admin).then(
    () => assert.fail('the run should fail'),
    (e: unknown) => e,
  );
  assert.equal(reportError(failed, { out: () => undefined, err: (t) => void printed.push(t), stderrIsTty: false }), 1);
  assert.match(printed.join(''), /^veil: INTERNAL: /);
  assert.equal(lines.length, 1, 'the error itself is logged, scrubbed, once');
  const [vector] = engine.said as [Float32Array];
  const leaked = Array.from(vector, String).filter((c) => c.length > 6 && printed.join('').includes(c));
  assert.deepEqual(leaked, [], 'no component of the vector reaches the command line');
  await v.close();
});

test('a rollback run that stalled past its lease writes no template back once a run toward the new model took over', async () => {
  const { open } = await switchGallery(2, T0);
  const fresh = await open(new FakeAnalyzer());
  assert.equal((await fresh.models.reembed(admin)).reembedded, 2);
  await fresh.close();
  const gate = new GatedEngine(new OldModel());
  const stale = await open(gate);
  const back = await stale.models.startReembed(admin, { model: 'old-model@1' });
  await gate.reached(1); // the rollback holds its first template

  const clock = new ManualClock(T0);
  clock.advance(REEMBED_LEASE_MS + 1);
  const again = await open(new FakeAnalyzer(), clock);
  const forward = await again.models.reembed(admin, { model: NEW });
  assert.equal(forward.reembedded, 0, 'nothing had been rolled back yet');
  gate.release();
  const end = await endOf(stale, back.id); // the record says abandoned already: its process's own end
  assert.deepEqual([end['state'], end['error'], end['done']], ['failed', 'JOB_ABANDONED', 0]);
  assert.deepEqual(await templateCounts(again), { [NEW]: 2 });
  await Promise.all([stale.close(), again.close()]);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock } from '../../src/clock.js';
import { VeilError } from '../../src/errors.js';
import type { ImageOptions } from '../../src/face/analyzer.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import { MODELS } from '../../src/face/models.js';
import { REEMBED_LEASE_MS } from '../../src/gallery/reembed-runs.service.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { auditLog, endOf, settle, switchGallery, templateCounts } from './model-switch.fixture.js';
import { admin, code } from './fixture.js';

// Re-embedding runs as jobs, on the fake engine held at a gate: one run at a time across processes
// (two Veil instances on one database stand for two API processes), cancelled between templates,
// and a dead run's lease taken over once it expires (a clock moved on, no waiting).

/** The active engine finds no face in any photo (everyone is listed for re-enrollment); it holds the second. */
class Blind extends FakeAnalyzer {
  readonly seen: string[] = [];
  go!: () => void;
  private readonly gate = new Promise<void>((r) => (this.go = r));
  private atSecond!: () => void;
  readonly second = new Promise<void>((r) => (this.atSecond = r));
  override async analyze(bytes: Uint8Array, opts?: ImageOptions) {
    this.seen.push(Buffer.from(bytes).toString());
    if (this.seen.length === 2) {
      this.atSecond();
      await this.gate;
    }
    return super.analyze(new Uint8Array(Buffer.from('noface')), opts);
  }
}

const T0 = '2026-06-01T10:00:00.000Z';

test('a background run answers at once and is watched until done; meanwhile every other start is refused with its id', async () => {
  const { open } = await switchGallery(3, T0);
  const gate = new GatedEngine(new FakeAnalyzer());
  const v = await open(gate);
  const run = await v.models.startReembed(admin);
  assert.deepEqual(
    { ...run, id: undefined, startedAt: undefined },
    {
      id: undefined,
      startedAt: undefined,
      state: 'running',
      model: MODELS.embedder.id,
      dryRun: false,
      finishedAt: null,
      progress: { done: 0, total: 3 },
      cancelRequested: false,
    },
  );
  await gate.reached(1);
  // Another start, in the background or the foreground (the CLI), dry or not: refused, naming the run.
  const starts = [
    () => v.models.startReembed(admin),
    () => v.models.reembed(admin),
    () => v.models.startReembed(admin, { dryRun: true }),
  ];
  for (const again of starts)
    await assert.rejects(
      again(),
      (e) => e instanceof VeilError && e.code === 'JOB_RUNNING' && e.details?.['runId'] === run.id,
    );
  assert.equal((await v.models.reembedRun(admin, run.id)).state, 'running');
  assert.deepEqual(
    (await v.models.reembedRuns(admin)).map((r) => [r.id, r.state]),
    [[run.id, 'running']],
  );
  gate.release();
  const done = await settle(v, run.id);
  assert.equal(done.state, 'done');
  assert.deepEqual(done.progress, { done: 3, total: 3 });
  assert.deepEqual(done.report, {
    model: MODELS.embedder.id,
    dryRun: false,
    reembedded: 3,
    held: 0,
    reenroll: [],
    suppressionsNotCarried: 0,
  });
  assert.deepEqual(await templateCounts(v), { [MODELS.embedder.id]: 3 });
  // Audited once at the start and once at the end, with counts; nothing else about the run.
  const entries = (await auditLog(v)).filter((e) => e.action.startsWith('models.reembed.'));
  assert.deepEqual(
    entries.map((e) => [e.action, e.detail]),
    [
      ['models.reembed.started', { runId: run.id, model: MODELS.embedder.id, dryRun: false, total: 3 }],
      [
        'models.reembed.run',
        {
          runId: run.id,
          state: 'done',
          model: MODELS.embedder.id,
          dryRun: false,
          done: 3,
          reembedded: 3,
          held: 0,
          toReenroll: 0,
          suppressionsNotCarried: 0,
        },
      ],
    ],
  );
  // The lease is given up at the end: the next start goes, and finds nothing left.
  const next = await settle(v, (await v.models.startReembed(admin)).id);
  assert.deepEqual([next.state, next.progress, next.report?.reembedded], ['done', { done: 0, total: 0 }, 0]);
  await assert.rejects(
    v.models.reembedRun(admin, 'reemb_nosuchrunxxxxxxxx'),
    (e) => e instanceof VeilError && e.code === 'NOT_FOUND',
  );
  await assert.rejects(
    v.models.startReembed({ ...admin, role: 'dpo' }),
    (e) => e instanceof VeilError && e.code === 'FORBIDDEN',
  );
  await v.close();
});

test('a cancelled run stops between templates, here or from another process; a later start finishes the rest', async () => {
  const { open } = await switchGallery(4, T0);
  const gate = new GatedEngine(new FakeAnalyzer());
  const a = await open(gate);
  const first = await a.models.startReembed(admin);
  await gate.reached(1);
  const asked = await a.models.cancelReembed(admin, first.id);
  assert.deepEqual([asked.state, asked.cancelRequested], ['running', true]);
  gate.release();
  const stopped = await settle(a, first.id);
  // The template in hand when it was asked is finished; none after it is started.
  assert.deepEqual([stopped.state, stopped.progress.done, stopped.report?.reembedded], ['cancelled', 1, 1]);
  assert.equal(gate.calls, 1);
  assert.deepEqual(await templateCounts(a), { [MODELS.embedder.id]: 1, 'old-model@1': 3 });
  assert.equal(await code(a.models.cancelReembed(admin, first.id)), 'INVALID_STATE', 'an ended run');

  // Another process cancels a run of this one: seen at the run's next heartbeat.
  const held = new GatedEngine(new FakeAnalyzer());
  const [b, c] = [await open(held), await open(new FakeAnalyzer())];
  const second = await b.models.startReembed(admin);
  assert.equal(second.progress.total, 3);
  await held.reached(1);
  assert.equal((await c.models.cancelReembed(admin, second.id)).cancelRequested, true);
  await sleep(600); // past the heartbeat's half second, so the run reads the request before its next template
  held.release();
  const cancelled = await settle(c, second.id);
  assert.deepEqual([cancelled.state, cancelled.report?.reembedded], ['cancelled', 1]);
  assert.equal(held.calls, 1);

  const rest = await settle(c, (await c.models.startReembed(admin)).id);
  assert.deepEqual([rest.state, rest.report?.reembedded], ['done', 2]);
  assert.deepEqual(await templateCounts(c), { [MODELS.embedder.id]: 4 });
  const runs = (await auditLog(c)).filter((e) => e.action === 'models.reembed.run').map((e) => e.detail['state']);
  assert.deepEqual(runs, ['cancelled', 'cancelled', 'done']);
  await Promise.all([a.close(), b.close(), c.close()]);
});

test("a dead run's lease expires: the next start takes over, marks it abandoned, and each template is replaced once", async () => {
  const { open } = await switchGallery(4, T0);
  const hung = new GatedEngine(new FakeAnalyzer());
  const a = await open(hung);
  const dead = await a.models.startReembed(admin);
  await hung.reached(1); // process a stops answering here, its lease unrenewed

  const clock = new ManualClock(T0);
  const b = await open(new FakeAnalyzer(), clock);
  const refused = await b.models.startReembed(admin).catch((e: VeilError) => e);
  assert.ok(refused instanceof VeilError && refused.code === 'JOB_RUNNING' && refused.details?.['runId'] === dead.id);
  clock.advance(REEMBED_LEASE_MS + 1);
  const shown = await b.models.reembedRun(admin, dead.id);
  assert.deepEqual([shown.state, shown.error?.code], ['failed', 'JOB_ABANDONED']);
  const taker = await b.models.startReembed(admin);
  const done = await settle(b, taker.id);
  assert.deepEqual([done.state, done.error, done.report?.reembedded], ['done', undefined, 4]);

  // Process a wakes up: its template is gone, and its next heartbeat finds the lease lost (given up
  // by the run that took over, not merely taken: a free lease must not let the dead run go on).
  await sleep(600);
  hung.release();
  const end = await endOf(a, dead.id);
  assert.deepEqual([end['state'], end['error']], ['failed', 'JOB_ABANDONED']);
  assert.equal(hung.calls, 1, 'the dead run looked at no template after it woke');
  const ended = await a.models.reembedRun(admin, dead.id);
  assert.deepEqual([ended.state, ended.error?.code], ['failed', 'JOB_ABANDONED']);
  assert.equal(await a.store.db.selectFrom('job_leases').select('holder').executeTakeFirst(), undefined);
  assert.deepEqual(await templateCounts(b), { [MODELS.embedder.id]: 4 });
  assert.equal((await auditLog(b)).filter((e) => e.action === 'template.reembedded').length, 4);
  await Promise.all([a.close(), b.close()]);
});

test('an erased person is named by no run report: erased while the run goes, or after it ended', async () => {
  const { open, ids } = await switchGallery(2, T0);
  const blind = new Blind();
  const v = await open(blind);
  const run = await v.models.startReembed(admin);
  await blind.second;
  // The first person the run looked at is already on its list; they are erased before the run ends.
  const first = Number(/^face:p(\d+):/.exec(blind.seen[0]!)![1]);
  const [gone, other] = [ids[first]!, ids[1 - first]!];
  await v.lifecycle.erase([gone], admin, null);
  blind.go();
  const done = await settle(v, run.id);
  assert.deepEqual(
    done.report?.reenroll.map((e) => [e.subjectId, e.reasons]),
    [[other, ['no-face']]],
  );
  const end = (await auditLog(v)).find((e) => e.action === 'models.reembed.run')!;
  assert.equal(end.detail['toReenroll'], 1);
  // Erased after the run ended: their entry leaves the stored report.
  await v.lifecycle.erase([other], admin, null);
  assert.deepEqual((await v.models.reembedRun(admin, run.id)).report?.reenroll, []);
  const stored = JSON.stringify(await v.store.db.selectFrom('reembed_runs').selectAll().execute());
  assert.ok(!stored.includes(gone) && !stored.includes(other));
  await v.close();
});

test('a person restricted or whose data under the purpose went while a run goes is neither processed nor listed for re-enrollment', async () => {
  const { open } = await switchGallery(4, T0);
  const gate = new GatedEngine(new FakeAnalyzer());
  const v = await open(gate);
  const run = await v.models.startReembed(admin);
  await gate.reached(1);
  // The run read its page before these changes and holds the first template's photo in analysis:
  // that person and the next are restricted, the third's data under the purpose is removed.
  const order = await v.store.db.selectFrom('templates').select(['subject_id', 'purpose_id']).orderBy('id').execute();
  const [inHand, next, removed, untouched] = order.map((t) => t.subject_id as SubjectId);
  await v.subjects.setRestricted(admin, inHand!, true, 'contested accuracy');
  await v.subjects.setRestricted(admin, next!, true, 'contested accuracy');
  await v.lifecycle.removePurpose(removed!, order[2]!.purpose_id as PurposeId, admin, {
    reason: 'unenrolled',
    note: 'objection upheld',
  });
  gate.release();
  const done = await settle(v, run.id);
  assert.deepEqual(done.report?.reenroll, [], 'nobody whose data went is asked to enroll again');
  assert.deepEqual([done.state, done.report?.reembedded, done.report?.held], ['done', 1, 2]);
  assert.equal(gate.calls, 2, 'only the photos of the one in hand and the untouched person were analysed');
  const left = await v.store.db.selectFrom('templates').select(['subject_id', 'model']).execute();
  assert.deepEqual(
    left.map((t) => `${t.subject_id} ${t.model}`).sort(),
    [`${inHand} old-model@1`, `${next} old-model@1`, `${untouched} ${MODELS.embedder.id}`].sort(),
  );
  await v.close();
});

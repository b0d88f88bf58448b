import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Veil } from '../../src/app/veil.js';
import { VeilError } from '../../src/errors.js';
import type { ImageOptions } from '../../src/face/analyzer.js';
import { MODELS } from '../../src/face/models.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { switchGallery, templateCounts, OldModel } from './model-switch.fixture.js';
import { admin, fakePhoto } from './fixture.js';

// Re-embedding after a model switch, one rule per test on the fake engine: resumable after a failure
// midway, one run at a time, restricted people held back (runs as jobs: reembed-runs.test.ts).

/** The active engine, failing on the n-th photo it is given (a crash midway through a run). */
class FailingOnce extends FakeAnalyzer {
  calls = 0;
  constructor(private readonly failAt: number) {
    super();
  }
  override async analyze(bytes: Uint8Array, opts?: ImageOptions) {
    if (++this.calls === this.failAt) throw new VeilError('ENGINE_TIMEOUT', 'The engine stopped.');
    return super.analyze(bytes, opts);
  }
}

const why = { justification: 'model switch rule' };

test('a run that stops midway resumes where it was: nothing lost, nothing made twice', async () => {
  const { open, ids } = await switchGallery(4);
  const failing = new FailingOnce(3);
  let v = await open(failing);
  await assert.rejects(v.models.reembed(admin), (e) => e instanceof VeilError && e.code === 'ENGINE_TIMEOUT');
  assert.deepEqual(
    await templateCounts(v),
    { [MODELS.embedder.id]: 2, 'old-model@1': 2 },
    'the two before the failure kept',
  );
  await v.close();
  v = await open(new FakeAnalyzer());
  const rest = await v.models.reembed(admin);
  assert.equal(rest.reembedded, 2);
  assert.deepEqual(await templateCounts(v), { [MODELS.embedder.id]: 4 });
  for (let i = 0; i < 4; i++) {
    const r = await v.search.identify(admin, { purpose: 'watch', image: fakePhoto(`p${i}`, '2'), ...why });
    assert.deepEqual(
      r.candidates.map((c) => c.subjectId),
      [ids[i]],
    );
  }
  assert.equal((await v.models.reembed(admin)).reembedded, 0, 'a third run has nothing left');
  await v.close();
});

test('two runs at once: the second is refused (JOB_RUNNING), the first replaces each template once', async () => {
  const { open } = await switchGallery(6);
  const v = await open(new FakeAnalyzer());
  const [a, b] = await Promise.allSettled([v.models.reembed(admin), v.models.reembed(admin)]);
  const after = await templateCounts(v);
  const indexed = v.index.size();
  await v.close();
  // Whichever took the lease first ran; the other was refused.
  const ran = [a, b].flatMap((r) => (r.status === 'fulfilled' ? [r.value.reembedded] : []));
  const refused = [a, b].flatMap((r) => (r.status === 'rejected' ? [(r.reason as VeilError).code] : []));
  assert.deepEqual([ran, refused], [[6], ['JOB_RUNNING']]);
  assert.deepEqual(after, { [MODELS.embedder.id]: 6 });
  assert.equal(indexed, 6);
});

test('a restricted subject is held back (stored, not processed) and re-embedded once the restriction is lifted', async () => {
  const { open, ids } = await switchGallery(2);
  const v = await open(new FakeAnalyzer());
  await v.subjects.setRestricted(admin, ids[0]!, true, 'Art. 18 request');
  const run = await v.models.reembed(admin);
  assert.deepEqual([run.reembedded, run.held, run.reenroll.length], [1, 1, 0]);
  assert.deepEqual(await templateCounts(v), { [MODELS.embedder.id]: 1, 'old-model@1': 1 });
  await v.subjects.setRestricted(admin, ids[0]!, false, 'restriction lifted');
  assert.deepEqual([(await v.models.reembed(admin)).reembedded], [1]);
  assert.deepEqual(await templateCounts(v), { [MODELS.embedder.id]: 2 });
  await v.close();
});

test('do-not-enroll entries of the old model are counted, reported and audited as not carried over', async () => {
  const { open } = await switchGallery(1);
  const unit = (seed: number) => Float32Array.from({ length: 512 }, (_, i) => Math.sin(seed * 7 + i));
  const suppress = (v: Veil, model: string, seed: number) =>
    v.suppression.add(admin, {
      embedding: unit(seed),
      model,
      reason: 'objection (Art. 21)',
      at: '2026-06-01T10:00:00Z',
    });
  let v = await open(new OldModel());
  await suppress(v, 'old-model@1', 1);
  await suppress(v, 'old-model@1', 2);
  await v.close();
  v = await open(new FakeAnalyzer());
  await suppress(v, MODELS.embedder.id, 3);
  const status = await v.models.status(admin);
  assert.deepEqual(
    status.suppressions,
    [
      { model: MODELS.embedder.id, entries: 1, active: true },
      { model: 'old-model@1', entries: 2, active: false },
    ].sort((a, b) => a.model.localeCompare(b.model)),
  );
  assert.equal(status.staleSuppressions, 2);
  const run = await v.models.reembed(admin);
  assert.deepEqual([run.reembedded, run.suppressionsNotCarried], [1, 2]);
  const log = (await v.audit.entries(admin, { limit: 1000 })).items as {
    action: string;
    detail: Record<string, unknown>;
  }[];
  const runs = log.filter((e) => e.action === 'models.reembed.run');
  assert.equal(runs.length, 1);
  assert.equal(runs[0]!.detail['suppressionsNotCarried'], 2);
  await v.close();
});

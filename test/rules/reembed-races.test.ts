import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import type { PurposeId, SubjectId } from '../../src/ids.js';
import { openStore } from '../../src/store/store.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { GatedEngine } from '../../support/gated-engine.js';
import { testDatabaseUrl } from '../../support/database.js';
import { tempDir } from '../helpers.js';
import { admin, fakePhoto } from './fixture.js';
import { OldModel, watchPurpose } from './model-switch.fixture.js';
import { heldAtAudit } from './held-audit.js';

// A template's replacement by a re-embedding run racing a change that removes the person's templates:
// the run's transaction is held after it wrote the new template, until the other change waits on it
// (PostgreSQL: a lock wait; SQLite runs one writer at a time, so the other change simply comes after).

const T0 = '2026-06-01T10:00:00.000Z';

async function racing(remove: (v: Veil, subjectId: SubjectId, purposeId: PurposeId) => Promise<unknown>) {
  const dir = tempDir('veil-rules-race-');
  const url = await testDatabaseUrl();
  const opened = () => openStore({ databaseUrl: url, sqlitePath: join(dir, 'veil.db') });
  const old = await openVeil({
    dataDir: dir,
    store: await opened(),
    clock: new ManualClock(T0),
    engine: new OldModel(),
    env: {},
  });
  await watchPurpose(old);
  const enrolled = await old.gallery.enroll(admin, {
    purpose: 'watch',
    sourceReference: 'f',
    images: [fakePhoto('p0')],
  });
  const subjectId = enrolled.subjectId as SubjectId;
  const purposeId = (await old.purposes.get(admin, 'watch')).id as PurposeId;
  await old.close();

  const real = await opened();
  // The run's replacement is the transaction held.
  const { store, arm } = heldAtAudit(real);
  const gate = new GatedEngine(new FakeAnalyzer());
  const v = await openVeil({ dataDir: dir, store, clock: new ManualClock(T0), engine: gate, env: {} });
  const run = await v.models.startReembed(admin);
  await gate.reached(1);
  const { atHold, go } = arm();
  gate.release();
  await atHold; // the old template deleted, the new one written, not committed
  const removing = remove(v, subjectId, purposeId);
  if (store.engine === 'postgres')
    for (let i = 0; ; i++) {
      const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
        where wait_event_type = 'Lock' and datname = current_database()`.execute(real.db);
      if (rows[0]!.n > 0) break;
      assert.ok(i < 1000, 'the removal never waited for the replacement');
      await sleep(10);
    }
  go();
  await removing;
  for (let i = 0; (await v.models.reembedRun(admin, run.id)).state === 'running'; i++) {
    assert.ok(i < 1000, 'the run never ended');
    await sleep(10);
  }
  const left = await real.db.selectFrom('templates').select('id').where('subject_id', '=', subjectId).execute();
  await v.close();
  return left;
}

test("an erasure racing a template's replacement leaves no template of the erased person", async () => {
  const left = await racing((v, s) => v.lifecycle.erase([s], admin, null));
  assert.deepEqual(left, []);
});

test("a removal from the purpose racing a template's replacement leaves no template there", async () => {
  const left = await racing((v, s, p) =>
    v.lifecycle.removePurpose(s, p, admin, { reason: 'unenrolled', note: 'objection upheld' }),
  );
  assert.deepEqual(left, []);
});

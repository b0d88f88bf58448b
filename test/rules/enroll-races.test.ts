import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { openVeil } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import type { SubjectId } from '../../src/ids.js';
import { openStore } from '../../src/store/store.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { testDatabaseUrl } from '../../support/database.js';
import { tempDir } from '../helpers.js';
import { admin, fakePhoto } from './fixture.js';
import { watchPurpose } from './model-switch.fixture.js';
import { heldAtAudit } from './held-audit.js';

// An enrollment adding a template to a person, racing that person's erasure: the enrollment's
// transaction is held after it wrote the template, before it commits. On PostgreSQL (read committed)
// the erasure's delete of the person's templates would not see that template, and it would outlive
// the erasure unless the two are ordered by a lock on the person's row; SQLite runs one writer at a
// time, so there the erasure simply comes after.
test('an erasure racing an enrollment into the same person leaves none of their templates', async () => {
  const dir = tempDir('veil-rules-enroll-race-');
  const url = await testDatabaseUrl();
  const real = await openStore({ databaseUrl: url, sqlitePath: join(dir, 'veil.db') });
  const { store, arm } = heldAtAudit(real);
  const v = await openVeil({ dataDir: dir, store, clock: new ManualClock(), engine: new FakeAnalyzer(), env: {} });
  try {
    await watchPurpose(v);
    const first = await v.gallery.enroll(admin, { purpose: 'watch', sourceReference: 'a', images: [fakePhoto('p0')] });
    const subjectId = first.subjectId as SubjectId;
    const { atHold, go } = arm();
    const enrolling = v.gallery.enroll(admin, {
      purpose: 'watch',
      subjectId,
      sourceReference: 'b',
      images: [fakePhoto('p1')],
    });
    await atHold; // the second template written, not committed
    let erased = false;
    const erasing = v.lifecycle.erase([subjectId], admin, null).finally(() => (erased = true));
    if (real.engine === 'postgres')
      for (let i = 0; !erased; i++) {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from pg_stat_activity
          where wait_event_type = 'Lock' and datname = current_database()`.execute(real.db);
        if (rows[0]!.n > 0) break; // the erasure waits for the enrollment
        assert.ok(i < 1000, 'the erasure neither waited nor ended');
        await sleep(10);
      }
    go();
    await enrolling;
    await erasing;
    const left = await real.db.selectFrom('templates').select('id').where('subject_id', '=', subjectId).execute();
    assert.deepEqual(left, [], 'a template of the erased person is left');
  } finally {
    await v.close();
  }
});

import assert from 'node:assert/strict';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { PurposeId } from '../../src/ids.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { engineOptions, tempDir } from '../../support/database.js';
import { pseudoUnit } from '../../support/unit-vectors.js';
import { seedBulk } from '../../bench/scale/startup.js';

/** Templates and rows per segment of the snapshot tests: 300 people in 6 segments. */
export const N = 300;
export const SEGMENT = 50;

export interface Setup {
  dir: string;
  db: { databaseUrl?: string };
  purposeId: PurposeId;
  open(snapshot?: boolean): Promise<Veil>;
}

/** N templates of N people in one purpose, quantised from 64; then one start that writes the snapshot. */
export async function seeded(prefix: string): Promise<Setup> {
  const dir = tempDir(prefix);
  const db = await engineOptions();
  const engine = new FakeAnalyzer();
  const open = (snapshot = true) =>
    openVeil({
      dataDir: dir,
      engine,
      env: {},
      ...db,
      index: { quantiseFrom: 64, segmentTemplates: SEGMENT, snapshot },
    });
  const v = await open(false);
  const purpose = await v.purposes.create(actors.system('test'), {
    key: 'snap',
    name: 'Snapshot',
    description: 'Find the photos of you taken at our events.',
    lawfulBasis: 'consent',
  });
  await seedBulk(v, purpose.id as PurposeId, N, pseudoUnit);
  await v.close();
  // No snapshot yet: everything is decrypted, and a snapshot written (close waits for it).
  const first = await open();
  assert.equal(first.lifecycle.started?.decrypted, N);
  await first.close();
  return { dir, db, purposeId: purpose.id as PurposeId, open };
}

/** The index a start without the snapshot builds (every template decrypted): what any start must equal. */
export async function fullRebuild(s: Setup): Promise<Record<string, string[]>> {
  const v = await s.open(false);
  try {
    return v.index.snapshot();
  } finally {
    await v.close();
  }
}

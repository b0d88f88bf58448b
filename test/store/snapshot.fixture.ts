import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openVeil, type Veil } from '../../src/app/veil.js';
import { actors } from '../../src/auth/actor.js';
import type { PurposeId } from '../../src/ids.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { engineOptions, tempDir } from '../../support/database.js';
import { pseudoUnit } from '../../support/unit-vectors.js';
import { seedBulk } from '../../bench/scale/startup.js';
import { open as openSealed } from '../../src/privacy/keys.js';
import { IndexSnapshots, SEGMENT_DIR } from '../../src/gallery/index-snapshot.js';
import { decodeSegment, segmentAad, type SegmentRows } from '../../src/vector/segment-codec.js';
import { indexSegmentRepository } from '../../src/vector/index-segment.repository.js';

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
      // Destroyed segments are written again only when a test flushes the rewrites (v.rewrites).
      index: { quantiseFrom: 64, segmentTemplates: SEGMENT, snapshot, rewriteDelayMs: 600_000 },
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

/**
 * What someone holding the data directory and the master key reads: every file under index/ that a
 * live keystore key opens as the segment its name says, whether or not a row names it.
 */
export async function readable(v: Veil, dir: string, purposeId: string) {
  const live = (await v.keyring.keystore.readAll()).filter((s) => s.state === 'live' && s.wrapped);
  const named = new Set((await indexSegmentRepository.all(v.store.db)).map((r) => r.id));
  const out: (SegmentRows & { named: boolean })[] = [];
  for (const f of existsSync(join(dir, SEGMENT_DIR)) ? readdirSync(join(dir, SEGMENT_DIR)) : []) {
    const id = f.replace(/\.seg$/, '');
    const s = live.find((x) => x.owner === `idxseg:${id}`);
    if (!s) continue;
    const key = v.keyring.master.unwrapSlot(s.wrapped!, s.owner, s.slot);
    const plain = openSealed(key, readFileSync(join(dir, SEGMENT_DIR, f)), segmentAad(id, v.vault.model, purposeId));
    out.push({ ...decodeSegment(plain), named: named.has(id) });
  }
  return out;
}

/**
 * Runs `body` with changes destroying no segment (as a Veil before segments did, or a change that
 * stopped after its commit): the segments outlive the change, and only a start's check can drop the rows.
 */
export async function withoutForget<T>(body: () => Promise<T>): Promise<T> {
  const forget = IndexSnapshots.prototype.forget;
  IndexSnapshots.prototype.forget = () => Promise.resolve([]);
  try {
    return await body();
  } finally {
    IndexSnapshots.prototype.forget = forget;
  }
}

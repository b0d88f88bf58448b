import { setTimeout as sleep } from 'node:timers/promises';
import { openVeil, type Veil, type VeilOptions } from '../../src/app/veil.js';
import { ManualClock } from '../../src/clock.js';
import type { FaceAnalyzer } from '../../src/face/analyzer.js';
import type { SubjectId } from '../../src/ids.js';
import { FakeAnalyzer } from '../../support/fake-analyzer.js';
import { engineOptions, tempDir } from '../helpers.js';
import { admin, fakePhoto } from './fixture.js';

/** The fake engine under another model id: what was active before the switch. */
export class OldModel extends FakeAnalyzer {
  override readonly modelId: string = 'old-model@1';
}

/**
 * A gallery enrolled under OldModel (a watchlist purpose that keeps its photos), closed; `open` opens
 * it again with another engine, as a process after a model switch would (each open its own clock,
 * from `start` unless one is given, and any other option of openVeil).
 */
export async function switchGallery(people: number, start?: string) {
  const dataDir = tempDir('veil-rules-switch-');
  const db = await engineOptions();
  const open = (engine: FaceAnalyzer, clock = new ManualClock(start), more: Partial<VeilOptions> = {}) =>
    openVeil({ ...db, dataDir, clock, engine, env: {}, ...more });
  const v = await open(new OldModel());
  await watchPurpose(v);
  const ids: SubjectId[] = [];
  for (let i = 0; i < people; i++) {
    const r = await v.gallery.enroll(admin, {
      purpose: 'watch',
      sourceReference: `file ${i}`,
      images: [fakePhoto(`p${i}`)],
    });
    ids.push(r.subjectId);
  }
  await v.close();
  return { open, ids, dataDir, db };
}

/** The purpose every switched gallery enrolls under: a watchlist that keeps its photos (re-embeddable). */
export async function watchPurpose(v: Veil): Promise<void> {
  await v.purposes.create(admin, {
    key: 'watch',
    name: 'watch',
    description: 'Watchlist under a legal obligation, photos kept.',
    lawfulBasis: 'legal-obligation',
    art9Condition: 'substantial-public-interest',
    legalReference: 'Act 12 s.3',
    keepSourceImages: true,
  });
}

/** Templates per model id. */
export const templateCounts = async (v: Veil) =>
  Object.fromEntries((await v.models.status(admin)).models.map((m) => [m.model, m.templates]));

/** Polls a re-embedding run until it ends (bounded: a run that never ends fails the test). */
export async function settle(v: Veil, id: string) {
  for (let i = 0; i < 1000; i++) {
    const r = await v.models.reembedRun(admin, id);
    if (r.state !== 'running') return r;
    await sleep(10);
  }
  throw new Error(`run ${id} never ended`);
}

/** The audit log, oldest first. */
export async function auditLog(v: Veil) {
  const items = (await v.audit.entries(admin, { limit: 1000 })).items as {
    action: string;
    detail: Record<string, unknown>;
  }[];
  return items.reverse();
}

/** A run's audited end, once written by the process that ran it, whatever the record already says (bounded). */
export async function endOf(v: Veil, runId: string) {
  for (let i = 0; i < 1000; i++) {
    const end = (await auditLog(v)).find((e) => e.action === 'models.reembed.run' && e.detail['runId'] === runId);
    if (end) return end.detail;
    await sleep(10);
  }
  throw new Error(`run ${runId} never ended`);
}

import type { Store } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { SubjectId } from '../ids.js';
import type { FaceDataLifecycle, PurposeRemoval } from '../gallery/face-data.lifecycle.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { consentRepository as consents } from '../privacy/consent.repository.js';
import type { JournalEntry, RestoreJournal } from '../privacy/restore-journal.js';

export interface JournalReplay {
  /** Purposes whose data the restored database still held although it had been removed since (withdrawals among them). */
  readonly purposesRemoved: number;
  readonly consentsWithdrawn: number;
  /** People whose restriction the restored database had set or lifted differently from the last change. */
  readonly restrictions: number;
}

/**
 * Re-applies, through the one face-data lifecycle, what the journal says happened and the restored
 * database does not show. Each line is judged on the restored rows, so a replay twice changes nothing:
 * - a withdrawal: its consent is still given there;
 * - any other removal of a purpose's data: templates made before the removal are still there (ones
 *   made after it come from a later enrollment the backup already held, and stay);
 * - restriction: the person's last line is the present state; an erased person is left alone.
 */
export async function replayJournal(
  d: { store: Store; lifecycle: FaceDataLifecycle; journal: RestoreJournal },
  actor: Actor,
): Promise<JournalReplay> {
  const entries = d.journal.read();
  let purposesRemoved = 0;
  let consentsWithdrawn = 0;
  let restrictions = 0;
  const lastRestriction = new Map<SubjectId, Extract<JournalEntry, { kind: 'restriction' }>>();
  for (const e of entries) {
    if (e.kind === 'restriction') {
      lastRestriction.set(e.subjectId, e);
      continue;
    }
    if (e.consentId) {
      const c = await consents.get(d.store.db, e.consentId);
      if (c?.state === 'given' && c.subjectId === e.subjectId && c.purposeId === e.purposeId) {
        await d.lifecycle.withdrawConsent(c, actor);
        consentsWithdrawn++;
        purposesRemoved++;
      }
      continue;
    }
    const held = await subjects.templates(d.store.db, { subjectId: e.subjectId, purposeId: e.purposeId });
    if (!held.some((t) => t.createdAt < e.at)) continue;
    await d.lifecycle.removePurpose(e.subjectId, e.purposeId, actor, removal(e));
    purposesRemoved++;
  }
  for (const e of lastRestriction.values()) {
    const s = await subjects.get(d.store.db, e.subjectId);
    if (!s || s.state === 'erased' || (s.state === 'restricted') === e.restricted) continue;
    await d.lifecycle.setRestricted(e.subjectId, e.restricted, actor, `replayed after a restore (set at ${e.at})`);
    restrictions++;
  }
  return { purposesRemoved, consentsWithdrawn, restrictions };
}

function removal(e: Extract<JournalEntry, { kind: 'purpose-removed' }>): PurposeRemoval {
  switch (e.reason) {
    case 'unenrolled':
      return { reason: 'unenrolled', note: `replayed after a restore (removed at ${e.at})` };
    case 'consent-withdrawn':
    case 'consent-expired':
      return { reason: 'consent-expired', expiredAt: e.at };
    case 'retention':
      return { reason: 'retention', expiredAt: e.at };
  }
}

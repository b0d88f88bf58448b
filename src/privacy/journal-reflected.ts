import type { Executor } from '../store/store.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { suppressionRepository as suppressions } from '../gallery/suppression.repository.js';
import { consentRepository as consents } from './consent.repository.js';
import { purposeRepository as purposes } from './purpose.repository.js';
import type { JournalChange } from './restore-journal.js';

/**
 * Whether the database shows a restore-journal line's change: nothing of what it took away is there.
 * One test for the two places that ask it: a restore replays only the lines the restored database
 * does not show (restore-replay.ts), and a narrowing change whose commit its client saw fail keeps its
 * line when the database shows it after all (PostgreSQL can commit a transaction whose client sees
 * COMMIT fail: restore-journal.ts `journaled`).
 * - a withdrawal: its consent is no longer given;
 * - any other removal of a purpose's data: no template it deleted is there (a template of a later
 *   enrollment is another's, and stays);
 * - a restriction set or lifted: the person is in that state, erased, or gone;
 * - a purpose's suspension or resumption: it has that status, or is gone;
 * - a purpose's setting (FPIR target, confirmation count): it has that value, or is gone;
 * - templates removed as not the person's: none of them is there;
 * - a do-not-enroll entry: its id is there.
 */
export async function reflectedIn(ex: Executor, e: JournalChange): Promise<boolean> {
  switch (e.kind) {
    case 'suppression-added':
      return suppressions.has(ex, e.suppressionId);
    case 'restriction': {
      const s = await subjects.get(ex, e.subjectId);
      return !s || s.state === 'erased' || (s.state === 'restricted') === e.restricted;
    }
    case 'purpose-status': {
      const p = await purposes.byIdOrKey(ex, e.purposeId);
      return !p || (p.status === 'suspended') === e.suspended;
    }
    case 'purpose-setting': {
      const p = await purposes.byIdOrKey(ex, e.purposeId);
      return !p || p[e.setting] === e.to;
    }
    case 'templates-removed': {
      const ids = new Set<string>(e.templates);
      return !(await subjects.templates(ex, { subjectId: e.subjectId })).some((t) => ids.has(t.id));
    }
    case 'purpose-removed': {
      if (e.consentId) {
        const c = await consents.get(ex, e.consentId);
        return !(c?.state === 'given' && c.subjectId === e.subjectId && c.purposeId === e.purposeId);
      }
      const held = await subjects.templates(ex, { subjectId: e.subjectId, purposeId: e.purposeId });
      // By the ids it deleted: a template's createdAt and the line's time come from different
      // processes' clocks (skewed, or the same millisecond). Lines without ids fall back to time.
      const removed = new Set<string>(e.templates ?? []);
      return !held.some((t) => (e.templates ? removed.has(t.id) : t.createdAt < e.at));
    }
  }
}

import type { Store } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { PurposeId, SubjectId } from '../ids.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import { purposeRepository as purposes } from '../privacy/purpose.repository.js';
import type { FaceDataLifecycle, PurposeRemoval } from '../gallery/face-data.lifecycle.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { consentRepository as consents } from '../privacy/consent.repository.js';
import type { JournalEntry, RestoreJournal } from '../privacy/restore-journal.js';
import type { SuppressionList } from '../gallery/suppression.js';
import { suppressionRepository as suppressions } from '../gallery/suppression.repository.js';

export interface JournalReplay {
  /** Purposes whose data the restored database still held although it had been removed since (withdrawals among them). */
  readonly purposesRemoved: number;
  readonly consentsWithdrawn: number;
  /** People whose restriction the restored database had set or lifted differently from the last change. */
  readonly restrictions: number;
  /** Purposes whose suspension the restored database had set or lifted differently from the last change. */
  readonly suspensions: number;
  /** Purpose settings (FPIR target, confirmation count) the restored database held otherwise than last set. */
  readonly settings: number;
  /** Templates removed since as not the person's (rectification, a client's face deletion) that the restored database held. */
  readonly templatesRemoved: number;
  /** Do-not-enroll entries added since, which the restored database lacked, added again. */
  readonly suppressionsAdded: number;
  /** Entries of those whose key is gone (destroyed, or its slot another's): not added; the person must ask again. */
  readonly suppressionsLost: readonly string[];
}

/**
 * Re-applies, through the one face-data lifecycle, what the journal says happened and the restored
 * database does not show. Each line is judged on the restored rows, so a replay twice changes nothing:
 * - a withdrawal: its consent is still given there;
 * - any other removal of a purpose's data: templates it deleted are still there (others come from a
 *   later enrollment the backup already held, and stay);
 * - restriction: the person's last line is the present state; an erased person is left alone;
 * - a purpose's suspension: its last line is the present status;
 * - a purpose's FPIR target or confirmation count: its last line per setting is the present value;
 * - templates removed as not the person's: those of them still there;
 * - a do-not-enroll entry: its id is not there (added again from the line, by SuppressionList).
 */
export async function replayJournal(
  d: {
    store: Store;
    purposes: PurposeService;
    lifecycle: FaceDataLifecycle;
    journal: RestoreJournal;
    suppression: SuppressionList;
  },
  actor: Actor,
): Promise<JournalReplay> {
  const entries = d.journal.read();
  let purposesRemoved = 0;
  let consentsWithdrawn = 0;
  let restrictions = 0;
  let templatesRemoved = 0;
  let suppressionsAdded = 0;
  const suppressionsLost: string[] = [];
  const lastRestriction = new Map<SubjectId, Extract<JournalEntry, { kind: 'restriction' }>>();
  const lastStatus = new Map<PurposeId, Extract<JournalEntry, { kind: 'purpose-status' }>>();
  const lastSetting = new Map<string, Extract<JournalEntry, { kind: 'purpose-setting' }>>();
  for (const e of entries) {
    if (e.kind === 'restriction') {
      lastRestriction.set(e.subjectId, e);
      continue;
    }
    if (e.kind === 'purpose-status') {
      lastStatus.set(e.purposeId, e);
      continue;
    }
    if (e.kind === 'purpose-setting') {
      lastSetting.set(`${e.purposeId} ${e.setting}`, e);
      continue;
    }
    if (e.kind === 'suppression-added') {
      if (await suppressions.has(d.store.db, e.suppressionId)) continue;
      if (await d.suppression.restore(actor, e)) suppressionsAdded++;
      else suppressionsLost.push(e.suppressionId);
      continue;
    }
    if (e.kind === 'templates-removed') {
      const ids = new Set<string>(e.templates);
      const back = (await subjects.templates(d.store.db, { subjectId: e.subjectId })).filter((t) => ids.has(t.id));
      if (!back.length) continue;
      const note = `replayed after a restore (removed at ${e.at})`;
      templatesRemoved += await d.lifecycle.removeTemplates(
        e.subjectId,
        back.map((t) => t.id),
        actor,
        { reason: note },
      );
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
    // By the ids it deleted: a template's createdAt and the entry's time come from different
    // processes' clocks (skewed, or the same millisecond). Entries without ids fall back to time.
    const removed = new Set<string>(e.templates ?? []);
    if (!held.some((t) => (e.templates ? removed.has(t.id) : t.createdAt < e.at))) continue;
    await d.lifecycle.removePurpose(e.subjectId, e.purposeId, actor, removal(e));
    purposesRemoved++;
  }
  for (const e of lastRestriction.values()) {
    const s = await subjects.get(d.store.db, e.subjectId);
    if (!s || s.state === 'erased' || (s.state === 'restricted') === e.restricted) continue;
    await d.lifecycle.setRestricted(e.subjectId, e.restricted, actor, `replayed after a restore (set at ${e.at})`);
    restrictions++;
  }
  const suspensions = await replayStatuses(d, [...lastStatus.values()], actor);
  const settings = await replaySettings(d, [...lastSetting.values()], actor);
  return {
    purposesRemoved,
    consentsWithdrawn,
    restrictions,
    suspensions,
    settings,
    templatesRemoved,
    suppressionsAdded,
    suppressionsLost,
  };
}

/**
 * A purpose's last suspension or resumption is its present status (a suspension is an order: it must
 * hold). Set again through the purpose service, as the DPO's decision it replays.
 */
async function replayStatuses(
  d: { store: Store; purposes: PurposeService },
  last: readonly Extract<JournalEntry, { kind: 'purpose-status' }>[],
  actor: Actor,
): Promise<number> {
  let n = 0;
  for (const e of last) {
    const p = await purposes.byIdOrKey(d.store.db, e.purposeId);
    if (!p || (p.status === 'suspended') === e.suspended) continue;
    await d.purposes.setSuspended(
      { ...actor, role: 'dpo' },
      p.id,
      e.suspended,
      `replayed after a restore (set at ${e.at})`,
    );
    n++;
  }
  return n;
}

/** A purpose's last FPIR target and confirmation count are its present ones: a restore must not loosen them again. */
async function replaySettings(
  d: { store: Store; purposes: PurposeService },
  last: readonly Extract<JournalEntry, { kind: 'purpose-setting' }>[],
  actor: Actor,
): Promise<number> {
  let n = 0;
  for (const e of last) {
    const p = await purposes.byIdOrKey(d.store.db, e.purposeId);
    if (!p || p[e.setting] === e.to) continue;
    await d.purposes.replaySetting(actor, p.id, e.setting, e.to, `replayed after a restore (set at ${e.at})`);
    n++;
  }
  return n;
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

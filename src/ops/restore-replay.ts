import type { Store } from '../store/store.js';
import { VeilError } from '../errors.js';
import type { Actor } from '../auth/actor.js';
import type { PurposeId, SubjectId } from '../ids.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import type { FaceDataLifecycle, PurposeRemoval } from '../gallery/face-data.lifecycle.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { consentRepository as consents } from '../privacy/consent.repository.js';
import type { JournalEntry, RestoreJournal } from '../privacy/restore-journal.js';
import type { SuppressionList } from '../gallery/suppression.js';
import { reflectedIn } from '../privacy/journal-reflected.js';

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
  /** Purpose-setting lines not applied because their value is not a valid one (a damaged or forged line): "purpose setting". */
  readonly settingsInvalid: readonly string[];
  /** Templates removed since as not the person's (rectification, a client's face deletion) that the restored database held. */
  readonly templatesRemoved: number;
  /** Do-not-enroll entries added since, which the restored database lacked, added again. */
  readonly suppressionsAdded: number;
  /** Entries of those whose key is gone (destroyed, or its slot another's): not added; the person must ask again. */
  readonly suppressionsLost: readonly string[];
}

/**
 * Re-applies, through the one face-data lifecycle, what the journal says happened and the restored
 * database does not show (`reflectedIn` judges each line on the restored rows, so a replay twice
 * changes nothing). A person's last restriction line, a purpose's last suspension line, and its last
 * line per setting (FPIR target, confirmation count) is the present state; a do-not-enroll entry is
 * added again from its line, by SuppressionList.
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
  const lastSuppression = new Map<string, Extract<JournalEntry, { kind: 'suppression-added' }>>();
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
      lastSuppression.set(e.suppressionId, e);
      continue;
    }
    if (await reflectedIn(d.store.db, e)) continue;
    if (e.kind === 'templates-removed') {
      const ids = new Set<string>(e.templates);
      const back = (await subjects.templates(d.store.db, { subjectId: e.subjectId })).filter((t) => ids.has(t.id));
      const note = `replayed after a restore (removed at ${e.at})`;
      templatesRemoved += await d.lifecycle.removeTemplates(
        e.subjectId,
        back.map((t) => t.id),
        actor,
        { reason: note },
      );
      continue;
    }
    const c = e.consentId ? await consents.get(d.store.db, e.consentId) : undefined;
    if (c) {
      await d.lifecycle.withdrawConsent(c, actor);
      consentsWithdrawn++;
    } else await d.lifecycle.removePurpose(e.subjectId, e.purposeId, actor, removal(e));
    purposesRemoved++;
  }
  // An entry's last line: an entry from before the lines, in a database restored from before its first,
  // gets another at the next start (SuppressionList.settle), whose key the sweep then keeps instead.
  for (const e of lastSuppression.values()) {
    if (await reflectedIn(d.store.db, e)) continue;
    if (await d.suppression.restore(actor, e)) suppressionsAdded++;
    else suppressionsLost.push(e.suppressionId);
  }
  for (const e of lastRestriction.values()) {
    if (await reflectedIn(d.store.db, e)) continue;
    await d.lifecycle.setRestricted(e.subjectId, e.restricted, actor, `replayed after a restore (set at ${e.at})`);
    restrictions++;
  }
  const suspensions = await replayStatuses(d, [...lastStatus.values()], actor);
  const { settings, settingsInvalid } = await replaySettings(d, [...lastSetting.values()], actor);
  return {
    purposesRemoved,
    consentsWithdrawn,
    restrictions,
    suspensions,
    settings,
    settingsInvalid,
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
    if (await reflectedIn(d.store.db, e)) continue;
    await d.purposes.setSuspended(
      { ...actor, role: 'dpo' },
      e.purposeId,
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
): Promise<{ settings: number; settingsInvalid: string[] }> {
  let settings = 0;
  const settingsInvalid: string[] = [];
  for (const e of last) {
    if (await reflectedIn(d.store.db, e)) continue;
    try {
      await d.purposes.replaySetting(actor, e.purposeId, e.setting, e.to, `replayed after a restore (set at ${e.at})`);
      settings++;
    } catch (err) {
      // One damaged line must not stop every restore at its last step: it is reported, not applied.
      if (!(err instanceof VeilError && err.code === 'INVALID_INPUT')) throw err;
      settingsInvalid.push(`${e.purposeId} ${String(e.setting)}`);
    }
  }
  return { settings, settingsInvalid };
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

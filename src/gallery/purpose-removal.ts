import type { Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { AuditAction } from '../audit/entry.js';
import type { Json } from '../audit/canonical.js';
import { actorLabel, type Actor } from '../auth/actor.js';
import type { ConsentId, PurposeId, SubjectId, TemplateId } from '../ids.js';
import { consentRepository as consents } from '../privacy/consent.repository.js';
import type { JournalChange } from '../privacy/restore-journal.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { mediaRepository as media } from './media.repository.js';
import { aliasRepository as aliases } from '../compreface/alias.repository.js';

/** Why a subject's data under one purpose stops: each reason writes its own audit entry. */
export type PurposeRemoval =
  | { readonly reason: 'consent-withdrawn'; readonly consentId: ConsentId }
  | { readonly reason: 'consent-expired'; readonly expiredAt: string }
  | { readonly reason: 'retention'; readonly expiredAt: string }
  | { readonly reason: 'unenrolled'; readonly note: string };

const REMOVAL_ACTION: Record<PurposeRemoval['reason'], AuditAction> = {
  'consent-withdrawn': 'consent.withdrawn',
  'consent-expired': 'consent.expired',
  retention: 'retention.run',
  unenrolled: 'enrollment.removed',
};

export interface Removal {
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly actor: Actor;
  readonly why: PurposeRemoval;
  readonly at: string;
}

/**
 * The rows of a purpose removal, in the lifecycle's transaction (face-data.lifecycle.ts owns the order
 * around it): templates, the enrollment, the photos' links, the client's alias; consents still given
 * become withdrawn or expired; the audit entries.
 */
export async function removePurposeIn(
  tx: Tx,
  audit: AuditLog,
  { subjectId, purposeId, actor, why, at }: Removal,
): Promise<{ files: (string | null)[]; templates: number; ids: TemplateId[] }> {
  // Consents first: their row lock orders this against an enrollment resting on one (which reads it
  // locked, gallery.service.ts), so the template delete below sees any template that enrollment wrote.
  const state = why.reason === 'consent-withdrawn' ? 'withdrawn' : 'expired';
  const given =
    why.reason === 'consent-withdrawn'
      ? [why.consentId]
      : why.reason === 'unenrolled'
        ? []
        : await consents.idsFor(tx, subjectId, purposeId, 'given');
  for (const id of given) await consents.setState(tx, id, state, at, actorLabel(actor));
  const gone = await subjects.deleteTemplates(tx, { subjectId, purposeId });
  await subjects.deleteEnrollment(tx, subjectId, purposeId);
  // Without the purpose, its photos no longer name the person.
  const sightings = await media.unlinkSubjectIn(tx, subjectId, purposeId);
  // A client's name for the person under this purpose (CompreFace-compatible API) goes with the data.
  const names = await aliases.removeForSubject(tx, subjectId, purposeId);
  const ids = gone.map((t) => t.id);
  if (ids.length)
    await audit.append(tx, {
      actor,
      action: 'template.removed',
      subjectIds: [subjectId],
      purposeId,
      detail: { templates: ids, reason: why.reason },
    });
  const detail: Record<string, Json> = { templatesDeleted: gone.length, sightingsUnlinked: sightings };
  if (why.reason === 'consent-withdrawn') detail['consentId'] = why.consentId;
  else if (why.reason === 'unenrolled') detail['note'] = why.note;
  else detail['expiredAt'] = why.expiredAt;
  if (why.reason !== 'consent-withdrawn' && given.length) detail['consentsExpired'] = given.length;
  if (names) detail['aliasesRemoved'] = names;
  await audit.append(tx, { actor, action: REMOVAL_ACTION[why.reason], subjectIds: [subjectId], purposeId, detail });
  return { files: gone.map((t) => t.imagePath), templates: gone.length, ids };
}

/** Its restore-journal line: the replay judges by the template ids it deleted (restore-replay.ts). */
export function removalEntry({ subjectId, purposeId, why, at }: Removal, templates: TemplateId[]): JournalChange {
  return {
    kind: 'purpose-removed',
    at,
    subjectId,
    purposeId,
    reason: why.reason,
    templates,
    ...(why.reason === 'consent-withdrawn' ? { consentId: why.consentId } : {}),
  };
}

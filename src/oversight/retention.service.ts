import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import type { PurposeId, SubjectId } from '../ids.js';
import { addDuration } from '../privacy/purpose.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import type { GalleryService } from '../gallery/gallery.service.js';
import type { Eraser } from '../rights/erasure.js';
import type { ErasureCertificate } from '../rights/certificate.js';
import type { OversightSettings } from './settings.js';

export interface RetentionPlan {
  readonly dryRun: boolean;
  readonly at: string;
  /** Subject-purpose pairs past retention: a subject left with nothing else is erased entirely. */
  readonly enrollments: readonly {
    subjectId: SubjectId;
    purpose: string;
    expiredAt: string;
    reason: 'retention' | 'consent-expired';
    action: 'erase-subject' | 'remove-purpose';
  }[];
  readonly media: number;
  readonly searches: number;
  readonly certificates: readonly ErasureCertificate[];
}

const SYSTEM: Actor = { kind: 'system', id: 'retention' };

/**
 * Storage limitation (Art. 5(1)(e)) and BIPA s.15(a): erases what is past its purpose's retention,
 * with the same machinery and certificate as an erasure request.
 */
export class RetentionService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      purposes: PurposeService;
      gallery: GalleryService;
      eraser: Eraser;
      dataDir: string;
      settings: OversightSettings;
    },
  ) {}

  async run(opts: { dryRun: boolean }): Promise<RetentionPlan> {
    const { store, clock } = this.deps;
    const now = clock.now();
    const iso = now.toISOString();
    const purposes = new Map((await this.deps.purposes.list()).map((p) => [p.id as string, p]));
    const enr = await store.db
      .selectFrom('enrollments')
      .innerJoin('subjects', 'subjects.id', 'enrollments.subject_id')
      .select(['enrollments.subject_id', 'enrollments.purpose_id', 'enrollments.last_interaction_at'])
      .where('subjects.state', '!=', 'erased')
      .execute();
    const expiredConsents = await store.db
      .selectFrom('consents')
      .select(['id', 'subject_id', 'purpose_id', 'expires_at'])
      .where('state', '=', 'given')
      .where('expires_at', 'is not', null)
      .where('expires_at', '<', iso)
      .execute();
    const due = new Map<
      string,
      { subjectId: SubjectId; purposeId: PurposeId; expiredAt: string; reason: 'retention' | 'consent-expired' }
    >();
    for (const e of enr) {
      const p = purposes.get(e.purpose_id);
      if (!p) continue;
      const expiry = addDuration(new Date(e.last_interaction_at), p.retention).toISOString();
      if (expiry < iso)
        due.set(`${e.subject_id}|${e.purpose_id}`, {
          subjectId: e.subject_id as SubjectId,
          purposeId: e.purpose_id as PurposeId,
          expiredAt: expiry,
          reason: 'retention',
        });
    }
    for (const c of expiredConsents)
      due.set(`${c.subject_id}|${c.purpose_id}`, {
        subjectId: c.subject_id as SubjectId,
        purposeId: c.purpose_id as PurposeId,
        expiredAt: c.expires_at!,
        reason: 'consent-expired',
      });
    const remaining = new Map<SubjectId, number>();
    for (const e of enr) remaining.set(e.subject_id as SubjectId, (remaining.get(e.subject_id as SubjectId) ?? 0) + 1);
    const perSubject = new Map<SubjectId, number>();
    for (const d of due.values()) perSubject.set(d.subjectId, (perSubject.get(d.subjectId) ?? 0) + 1);
    const plan = [...due.values()].map((d) => ({
      subjectId: d.subjectId,
      purpose: purposes.get(d.purposeId)?.key ?? d.purposeId,
      purposeId: d.purposeId,
      expiredAt: d.expiredAt,
      reason: d.reason,
      action:
        (perSubject.get(d.subjectId) ?? 0) >= (remaining.get(d.subjectId) ?? 0)
          ? ('erase-subject' as const)
          : ('remove-purpose' as const),
    }));
    const mediaRows = await store.db
      .selectFrom('media')
      .select(['id', 'purpose_id', 'ingested_at', 'stored_path'])
      .execute();
    const oldMedia = mediaRows.filter((m) => {
      const p = purposes.get(m.purpose_id);
      return p && addDuration(new Date(m.ingested_at), p.retention).toISOString() < iso;
    });
    const searchLimit = addDuration(now, this.deps.settings.searchLogRetention, -1).toISOString();
    const oldSearches = await store.db.selectFrom('searches').select('id').where('at', '<', searchLimit).execute();
    if (opts.dryRun)
      return {
        dryRun: true,
        at: iso,
        enrollments: plan.map(({ purposeId: _p, ...x }) => (void _p, x)),
        media: oldMedia.length,
        searches: oldSearches.length,
        certificates: [],
      };

    const certificates: ErasureCertificate[] = [];
    const erase = [...new Set(plan.filter((p) => p.action === 'erase-subject').map((p) => p.subjectId))];
    if (erase.length) certificates.push(await this.deps.eraser.erase(erase, SYSTEM, null));
    for (const p of plan.filter((x) => x.action === 'remove-purpose')) {
      this.deps.gallery.stopMatching(p.subjectId, p.purposeId);
      const files = await store.transaction(async (tx) => {
        const paths = await this.deps.gallery.deleteTemplates(tx, p.subjectId, p.purposeId, SYSTEM);
        await tx
          .deleteFrom('enrollments')
          .where('subject_id', '=', p.subjectId)
          .where('purpose_id', '=', p.purposeId)
          .execute();
        await tx
          .updateTable('consents')
          .set({ state: 'expired', state_at: iso })
          .where('subject_id', '=', p.subjectId)
          .where('purpose_id', '=', p.purposeId)
          .where('state', '=', 'given')
          .execute();
        await this.deps.audit.append(tx, {
          actor: SYSTEM,
          action: p.reason === 'consent-expired' ? 'consent.expired' : 'retention.run',
          subjectIds: [p.subjectId],
          purposeId: p.purposeId,
          detail: { expiredAt: p.expiredAt, templates: paths.length },
        });
        return paths;
      });
      this.deps.gallery.deleteFiles(files);
    }
    if (oldMedia.length) {
      await store.transaction(async (tx) => {
        await tx
          .deleteFrom('media')
          .where(
            'id',
            'in',
            oldMedia.map((m) => m.id),
          )
          .execute();
        await this.deps.audit.append(tx, {
          actor: SYSTEM,
          action: 'media.expired',
          detail: { media: oldMedia.length },
        });
      });
      for (const m of oldMedia) rmSync(join(this.deps.dataDir, m.stored_path), { force: true });
    }
    if (oldSearches.length) {
      await store.transaction(async (tx) => {
        await tx.deleteFrom('searches').where('at', '<', searchLimit).execute();
        await this.deps.audit.append(tx, {
          actor: SYSTEM,
          action: 'search.log.expired',
          detail: { searches: oldSearches.length, before: searchLimit },
        });
      });
    }
    await store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor: SYSTEM,
        action: 'retention.run',
        detail: {
          erasedSubjects: erase.length,
          purposesRemoved: plan.length - plan.filter((x) => x.action === 'erase-subject').length,
          media: oldMedia.length,
          searches: oldSearches.length,
        },
      }),
    );
    return {
      dryRun: false,
      at: iso,
      enrollments: plan.map(({ purposeId: _p, ...x }) => (void _p, x)),
      media: oldMedia.length,
      searches: oldSearches.length,
      certificates,
    };
  }

  /** The public retention schedule (BIPA s.15(a) asks for one), from the purposes. */
  async schedule(): Promise<{ purpose: string; name: string; retention: string; status: string }[]> {
    return (await this.deps.purposes.list()).map((p) => ({
      purpose: p.key,
      name: p.name,
      retention: p.retention,
      status: p.status,
    }));
  }
}

import { rmSync } from 'node:fs';
import { join } from 'node:path';

import { actors, type Actor } from '../auth/actor.js';
import type { PurposeId, SubjectId } from '../ids.js';
import { addDuration, type Purpose } from '../privacy/purpose.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { consentRepository } from '../privacy/consent.repository.js';
import { subjectRepository } from '../gallery/subject.repository.js';
import { mediaRepository } from '../gallery/media.repository.js';
import { searchRepository } from '../gallery/search.repository.js';
import type { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import type { ErasureCertificate } from '../rights/certificate.js';
import type { OversightSettings } from './settings.js';
import type { CoreDeps } from '../service-deps.js';

type Reason = 'retention' | 'consent-expired';

export interface RetentionPlan {
  readonly dryRun: boolean;
  readonly at: string;
  /** Subject-purpose pairs past retention: a subject left with nothing else is erased entirely. */
  readonly enrollments: readonly {
    subjectId: SubjectId;
    purpose: string;
    expiredAt: string;
    reason: Reason;
    action: 'erase-subject' | 'remove-purpose';
  }[];
  readonly media: number;
  readonly searches: number;
  readonly certificates: readonly ErasureCertificate[];
}

interface Due {
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly expiredAt: string;
  readonly reason: Reason;
}

/**
 * Storage limitation (Art. 5(1)(e)) and BIPA s.15(a): erases what is past its purpose's retention,
 * through the face-data lifecycle, with the same certificate as an erasure request.
 */
export class RetentionService {
  constructor(
    private readonly deps: CoreDeps & {
      lifecycle: FaceDataLifecycle;
      dataDir: string;
      settings: OversightSettings;
    },
  ) {}

  async run(actor: Actor, opts: { dryRun: boolean }): Promise<RetentionPlan> {
    this.deps.policy.require(actor, 'oversight.manage');
    const { store, clock } = this.deps;
    const now = clock.now();
    const iso = now.toISOString();
    const purposes = new Map((await purposeRepository.list(store.db)).map((p) => [p.id as string, p]));
    const enrollments = await subjectRepository.liveEnrollments(store.db);
    const due = await this.due(enrollments, purposes, iso);
    // A subject is erased whole only when every live enrollment is due; an expired consent to a purpose
    // they were never enrolled under does not count against what they hold under another.
    const live = new Set(enrollments.map((e) => `${e.subject_id}|${e.purpose_id}`));
    const remaining = new Map<SubjectId, number>();
    for (const e of enrollments)
      remaining.set(e.subject_id as SubjectId, (remaining.get(e.subject_id as SubjectId) ?? 0) + 1);
    const perSubject = new Map<SubjectId, number>();
    for (const d of due)
      if (live.has(`${d.subjectId}|${d.purposeId}`))
        perSubject.set(d.subjectId, (perSubject.get(d.subjectId) ?? 0) + 1);
    const holdsNothingElse = async (s: SubjectId): Promise<boolean> => {
      const held = remaining.get(s) ?? 0;
      if (held > 0) return (perSubject.get(s) ?? 0) >= held;
      // Never enrolled: erased whole only when no consent of theirs is still valid.
      const dueHere = new Set(due.filter((d) => d.subjectId === s).map((d) => d.purposeId as string));
      const given = (await consentRepository.forSubject(store.db, s)).filter((c) => c.state === 'given');
      return given.every((c) => dueHere.has(c.purposeId));
    };
    const whole = new Map<SubjectId, boolean>();
    for (const s of new Set(due.map((d) => d.subjectId))) whole.set(s, await holdsNothingElse(s));
    const plan = due.map((d) => ({
      ...d,
      purpose: purposes.get(d.purposeId)?.key ?? d.purposeId,
      action: whole.get(d.subjectId) ? ('erase-subject' as const) : ('remove-purpose' as const),
    }));
    const oldMedia = (await mediaRepository.all(store.db)).filter((m) => {
      const p = purposes.get(m.purpose_id);
      return p && addDuration(new Date(m.ingested_at), p.retention).toISOString() < iso;
    });
    const searchLimit = addDuration(now, this.deps.settings.searchLogRetention, -1).toISOString();
    const oldSearches = await searchRepository.countBefore(store.db, searchLimit);
    const shown = plan.map(({ purposeId: _p, ...x }) => x);
    if (opts.dryRun)
      return {
        dryRun: true,
        at: iso,
        enrollments: shown,
        media: oldMedia.length,
        searches: oldSearches,
        certificates: [],
      };

    const system = actors.system('retention');
    const certificates: ErasureCertificate[] = [];
    const erase = [...new Set(plan.filter((p) => p.action === 'erase-subject').map((p) => p.subjectId))];
    if (erase.length) certificates.push(await this.deps.lifecycle.erase(erase, system, null));
    for (const p of plan.filter((x) => x.action === 'remove-purpose')) {
      await this.deps.lifecycle.removePurpose(p.subjectId, p.purposeId, system, {
        reason: p.reason,
        expiredAt: p.expiredAt,
      });
    }
    if (oldMedia.length) {
      await store.transaction(async (tx) => {
        await mediaRepository.deleteMany(
          tx,
          oldMedia.map((m) => m.id),
        );
        await this.deps.audit.append(tx, {
          actor: system,
          action: 'media.expired',
          detail: { media: oldMedia.length },
        });
      });
      for (const m of oldMedia) rmSync(join(this.deps.dataDir, m.stored_path), { force: true });
    }
    if (oldSearches) {
      await store.transaction(async (tx) => {
        await searchRepository.deleteBefore(tx, searchLimit);
        await this.deps.audit.append(tx, {
          actor: system,
          action: 'search.log.expired',
          detail: { searches: oldSearches, before: searchLimit },
        });
      });
    }
    await store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor: system,
        action: 'retention.run',
        detail: {
          erasedSubjects: erase.length,
          purposesRemoved: plan.length - plan.filter((x) => x.action === 'erase-subject').length,
          media: oldMedia.length,
          searches: oldSearches,
        },
      }),
    );
    return { dryRun: false, at: iso, enrollments: shown, media: oldMedia.length, searches: oldSearches, certificates };
  }

  /** Enrollments past retention since their last use, and consents past their own expiry. */
  private async due(
    enrollments: Awaited<ReturnType<typeof subjectRepository.liveEnrollments>>,
    purposes: Map<string, Purpose>,
    iso: string,
  ): Promise<Due[]> {
    const due = new Map<string, Due>();
    for (const e of enrollments) {
      const p = purposes.get(e.purpose_id);
      if (!p) continue;
      const expiredAt = addDuration(new Date(e.last_interaction_at), p.retention).toISOString();
      if (expiredAt < iso) {
        due.set(`${e.subject_id}|${e.purpose_id}`, {
          subjectId: e.subject_id as SubjectId,
          purposeId: e.purpose_id as PurposeId,
          expiredAt,
          reason: 'retention',
        });
      }
    }
    for (const c of await consentRepository.expiredButGiven(this.deps.store.db, iso)) {
      due.set(`${c.subject_id}|${c.purpose_id}`, {
        subjectId: c.subject_id as SubjectId,
        purposeId: c.purpose_id as PurposeId,
        expiredAt: c.expires_at!,
        reason: 'consent-expired',
      });
    }
    return [...due.values()];
  }

  /** The public retention schedule (BIPA s.15(a) asks for one), from the purposes. */
  async schedule(): Promise<{ purpose: string; name: string; retention: string; status: string }[]> {
    return (await purposeRepository.list(this.deps.store.db)).map((p) => ({
      purpose: p.key,
      name: p.name,
      retention: p.retention,
      status: p.status,
    }));
  }
}

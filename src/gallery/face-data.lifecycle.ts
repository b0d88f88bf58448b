import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Json } from '../audit/canonical.js';
import type { Actor } from '../auth/actor.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { ConsentRecord } from '../privacy/consent.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { JournalChange } from '../privacy/restore-journal.js';
import { reflectedIn } from '../privacy/journal-reflected.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { reloadSubject, touchIndex } from '../vector/index-feed.js';
import { subjectRepository as subjects } from './subject.repository.js';
import type { TemplateVault } from './template-vault.js';
import { SubjectEraser, type EraserDeps } from './subject-eraser.js';
import type { ErasureCertificate } from '../rights/certificate.js';
import type { IndexSnapshots } from './index-snapshot.js';
import { startIndex, type IndexStart } from './index-startup.js';
import { removalEntry, removePurposeIn, type PurposeRemoval } from './purpose-removal.js';

export type { PurposeRemoval } from './purpose-removal.js';

/**
 * The one lifecycle of someone's face data. Every way it stops being matched or is removed — consent
 * withdrawn or expired, retention, rectification, restriction, erasure — goes through here, in one
 * order: out of the live index before the transaction (fail closed), the change with its index-feed
 * record and audit entry in one transaction, files deleted after commit. If the transaction fails,
 * the subject is put back in the index from the store, so this process agrees with every other.
 */
export class FaceDataLifecycle {
  private readonly eraser: SubjectEraser;
  /** What the last rebuild did (whether a fresh snapshot is worth writing). */
  started: IndexStart | undefined;

  constructor(
    private readonly deps: EraserDeps & {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      index: GalleryIndex;
      vault: TemplateVault;
      keyring: KeyRing;
      /** The sealed index snapshot: start-up loads it; every change here destroys the segments holding the people. */
      snapshots?: IndexSnapshots;
    },
  ) {
    this.eraser = new SubjectEraser(deps, (ids, work) => this.change(ids, undefined, work));
  }

  /** Whether a change whose commit was seen failing is in the database after all (restore-journal.ts). */
  private readonly reflected = (line: JournalChange) => reflectedIn(this.deps.store.db, line);

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** The order every change follows: `work` runs in the transaction, returns the files to delete after commit. */
  private async change<T extends { files: readonly (string | null)[] }>(
    subjectIds: readonly SubjectId[],
    purposeId: PurposeId | undefined,
    work: (tx: Tx) => Promise<T>,
    drop: () => void = () => subjectIds.forEach((s) => this.deps.index.removeSubject(s, purposeId)),
    /** Its restore-journal line (restore-journal.ts: written in the transaction, last, as it narrows processing). */
    entry?: (r: NoInfer<T>) => JournalChange,
  ): Promise<T> {
    // Until the transaction's outcome is known, the follower must not apply a read of these people.
    const release = this.deps.index.fence.hold(subjectIds);
    drop();
    const leave = this.deps.snapshots?.gate.enter(); // till it settles, snapshot writes wait (ChangeGate)
    let result: T;
    let segments: Awaited<ReturnType<IndexSnapshots['forget']>> = [];
    try {
      result = await this.deps.keyring.journal.journaled(
        (note) =>
          this.deps.store.transaction(async (tx) => {
            // PostgreSQL reads each statement at its start: unlocked, a delete of a person's templates
            // misses one that a change committing meanwhile inserted (a re-embedded template kept past
            // an erasure or withdrawal). SQLite runs one writer at a time.
            await subjects.lockForChange(tx, subjectIds, this.deps.store.engine);
            const r = await work(tx);
            for (const s of subjectIds) await touchIndex(this.deps.store, tx, s, this.now());
            // Snapshot segments holding these people lose their keys in the same transaction.
            segments = (await this.deps.snapshots?.forget(tx, subjectIds)) ?? [];
            if (entry) await note(entry(r));
            return r;
          }),
        this.reflected,
      );
    } catch (e) {
      release();
      for (const s of subjectIds) {
        await this.reload(s).catch(() => undefined);
        // And in the feed: a snapshot segment written while they were out of this index is read again for them.
        await this.deps.store.transaction((tx) => touchIndex(this.deps.store, tx, s, this.now())).catch(() => null);
      }
      leave?.();
      throw e;
    }
    release();
    this.deps.vault.deleteFiles(result.files);
    await this.deps.snapshots?.settle(subjectIds, segments).finally(leave);
    return result;
  }

  private reload(subjectId: SubjectId): Promise<void> {
    return reloadSubject(this.deps, subjectId);
  }

  /** Builds the live index from the snapshot and the store (start-up, or after a restore): index-startup.ts. */
  async rebuild(): Promise<number> {
    this.started = await startIndex(this.deps);
    return this.started.templates;
  }

  /** After a rebuild (in the background): a fresh snapshot if the one loaded is stale (IndexSnapshots.stale). */
  async refreshSnapshot(): Promise<{ segments: number; templates: number } | null> {
    const { snapshots, index } = this.deps;
    if (!snapshots?.enabled || !this.started || !snapshots.stale(index, this.started)) return null;
    return snapshots.write(index, this.started.since);
  }

  /** Consent withdrawn (Art. 7(3)): matching stops at once; the templates resting on it are deleted. */
  async withdrawConsent(c: ConsentRecord, actor: Actor): Promise<{ templatesDeleted: number }> {
    if (c.state !== 'given') return { templatesDeleted: 0 };
    const r = await this.removePurpose(c.subjectId, c.purposeId, actor, {
      reason: 'consent-withdrawn',
      consentId: c.id,
    });
    return { templatesDeleted: r.templates };
  }

  /**
   * A subject's data under one purpose goes: templates, kept photos, the enrollment; consents still
   * given become withdrawn or expired, each with its history event.
   */
  async removePurpose(
    subjectId: SubjectId,
    purposeId: PurposeId,
    actor: Actor,
    why: PurposeRemoval,
  ): Promise<{ templates: number }> {
    const at = this.now();
    const removal = { subjectId, purposeId, actor, why, at };
    const r = await this.change(
      [subjectId],
      purposeId,
      (tx) => removePurposeIn(tx, this.deps.audit, removal),
      undefined,
      (done) => removalEntry(removal, done.ids),
    );
    return { templates: r.templates };
  }

  /** Rectification (Art. 16): templates that are not the person's (a photo of someone else) are removed. */
  async removeTemplates(
    subjectId: SubjectId,
    templateIds: readonly TemplateId[],
    actor: Actor,
    detail: Record<string, Json>,
  ): Promise<number> {
    const mine = (await subjects.templates(this.deps.store.db, { subjectId })).filter((t) =>
      templateIds.includes(t.id),
    );
    if (mine.length !== new Set(templateIds).size)
      throw new VeilError('NOT_FOUND', 'A template named is not this person’s.');
    const r = await this.change(
      [subjectId],
      undefined,
      async (tx) => {
        for (const t of mine) {
          await subjects.deleteTemplates(tx, { subjectId, templateId: t.id });
          await this.deps.audit.append(tx, {
            actor,
            action: 'template.removed',
            subjectIds: [subjectId],
            purposeId: t.purposeId,
            detail: { templateId: t.id, ...detail },
          });
        }
        return { files: mine.map((t) => t.imagePath) };
      },
      () => mine.forEach((t) => this.deps.index.removeTemplate(t.id)),
      // A restore must not bring them back: restore-journal.ts.
      () => ({ kind: 'templates-removed', at: this.now(), subjectId, templates: mine.map((t) => t.id) }),
    );
    return r.files.length;
  }

  /**
   * Re-embedding under the active model (`ModelSwitch`): the old template out and the new one (by `add`) in, with
   * the audit entry, in one transaction; old photo deleted after commit; subject read again. CONFLICT if it is gone.
   */
  async replaceTemplate(
    old: { id: TemplateId; subjectId: SubjectId; purposeId: PurposeId; imagePath: string | null },
    actor: Actor,
    add: (tx: Tx) => Promise<Record<string, Json>>,
  ): Promise<void> {
    const s = old.subjectId;
    await this.change(
      [s],
      undefined,
      async (tx) => {
        // Counted by the delete itself: a run that read the row before another run's commit finds it gone here.
        if (!(await subjects.deleteTemplate(tx, old.id)))
          throw new VeilError('CONFLICT', `Template ${old.id} was already replaced or removed.`);
        const detail = await add(tx);
        await this.deps.audit.append(tx, {
          actor,
          action: 'template.reembedded',
          subjectIds: [s],
          purposeId: old.purposeId,
          detail: { templateId: old.id, ...detail },
        });
        return { files: [old.imagePath] };
      },
      () => this.deps.index.removeTemplate(old.id),
    );
    await this.reload(s);
  }

  /** Art. 18: a restricted subject is kept but never matched or returned; lifting restores matching. */
  async setRestricted(subjectId: SubjectId, restricted: boolean, actor: Actor, reason: string): Promise<boolean> {
    const s = await subjects.get(this.deps.store.db, subjectId);
    if (!s || s.state === 'erased') throw new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectId}'.`);
    if ((s.state === 'restricted') === restricted) return false;
    const at = this.now();
    const entry: JournalChange = { kind: 'restriction', at, subjectId: s.id, restricted };
    if (restricted) {
      await this.change(
        [s.id],
        undefined,
        async (tx) => {
          await subjects.setState(tx, s.id, 'restricted', at);
          await this.deps.audit.append(tx, {
            actor,
            action: 'subject.restricted',
            subjectIds: [s.id],
            detail: { reason },
          });
          return { files: [] };
        },
        undefined,
        () => entry,
      );
    } else {
      await this.deps.keyring.journal.journaled(
        (note) =>
          this.deps.store.transaction(async (tx) => {
            await subjects.setState(tx, s.id, 'active', at);
            await touchIndex(this.deps.store, tx, s.id, at);
            await this.deps.audit.append(tx, {
              actor,
              action: 'subject.unrestricted',
              subjectIds: [s.id],
              detail: { reason },
            });
            await note(entry);
          }),
        this.reflected,
      );
      await this.reload(s.id);
    }
    return true;
  }

  /** Erasure (Art. 17): everything about the subjects, ending with their data key. */
  erase(subjectIds: readonly SubjectId[], actor: Actor, requestId: string | null): Promise<ErasureCertificate> {
    return this.eraser.erase(subjectIds, actor, requestId);
  }
}

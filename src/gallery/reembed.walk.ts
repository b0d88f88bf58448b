import { createHash } from 'node:crypto';
import type { Actor } from '../auth/actor.js';
import { newId, type SubjectId } from '../ids.js';
import { VeilError, isVeilError } from '../errors.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { CoreDeps } from '../service-deps.js';
import type { Executor, Tx } from '../store/store.js';
import { enrollmentFace } from './enrollment-gate.js';
import type { FaceDataLifecycle } from './face-data.lifecycle.js';
import { modelSwitchRepository as repo, type StaleTemplateRow } from './model-switch.repository.js';
import { qualityNumbers } from './numbers.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { suppressionRepository } from './suppression.repository.js';
import type { TemplateVault } from './template-vault.js';

/** Why a template cannot be made again from what is kept. */
export type ReenrollReason = 'photo-not-kept' | 'photo-missing' | 'no-face' | 'multiple-faces';

/** Someone whose templates under a purpose must be enrolled again (no biometric data: ids and references). */
export interface ReenrollEntry {
  readonly subjectId: SubjectId;
  readonly purpose: string;
  /** The consent the enrollment rests on, or the source reference of a non-consent enrollment. */
  readonly consentId: string | null;
  readonly sourceReference: string | null;
  readonly templates: number;
  readonly reasons: readonly ReenrollReason[];
}

export interface ReembedReport {
  readonly model: string;
  readonly dryRun: boolean;
  /** Templates made again under the active model (with --dry-run: that would be). */
  readonly reembedded: number;
  /** Templates of restricted subjects (Art. 18: stored, not processed), left for a run after the restriction is lifted. */
  readonly held: number;
  readonly reenroll: readonly ReenrollEntry[];
  /** Do-not-enroll entries of other models, which this run cannot carry over (the list keeps no photo). */
  readonly suppressionsNotCarried: number;
}

export type ReembedDeps = CoreDeps & {
  engine: FaceAnalyzer;
  keyring: KeyRing;
  vault: TemplateVault;
  lifecycle: FaceDataLifecycle;
};

const PAGE = 500;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Do-not-enroll entries per model id, and how many are of other models than the active one. */
export async function suppressionCounts(db: Executor, active: string) {
  const suppressions = (await suppressionRepository.countsByModel(db)).map((c) => ({
    ...c,
    active: c.model === active,
  }));
  const staleSuppressions = suppressions.filter((c) => !c.active).reduce((n, c) => n + c.entries, 0);
  return { suppressions, staleSuppressions };
}

/**
 * The work of one re-embedding run, without its rules (who may run it, one at a time, its record):
 * every template of another model than the active one, made again from its kept photo or listed for
 * re-enrollment. Each template is replaced in its own transaction through the face-data lifecycle,
 * so a run that stops resumes where it was, and a second run finds nothing left to do.
 */
export class ReembedWalk {
  constructor(private readonly deps: ReembedDeps) {}

  /**
   * `next(done)` is asked before each template; false stops the walk there (between templates).
   * `fence(tx)` runs in each replacement's transaction and throws to write nothing (a lost lease).
   */
  async run(
    actor: Actor,
    dryRun: boolean,
    next: (done: number) => Promise<boolean>,
    fence: (tx: Tx) => Promise<void>,
  ): Promise<{ report: ReembedReport; done: number; stopped: boolean }> {
    const model = this.deps.vault.model;
    const reenroll = new Map<string, ReenrollEntry & { reasons: ReenrollReason[]; templates: number }>();
    let [reembedded, held, done, stopped] = [0, 0, 0, false];
    pages: for (let after = ''; ;) {
      const rows = await repo.stale(this.deps.store.db, model, after, PAGE);
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      for (const t of rows) {
        if (!(await next(done))) {
          stopped = true;
          break pages;
        }
        done++;
        // An erased subject's rows are going; a restricted one's may be stored, not processed (Art. 18).
        if (t.subjectState === 'erased') continue;
        if (t.subjectState === 'restricted') {
          held++;
          continue;
        }
        const outcome = await this.one(actor, t, dryRun, fence);
        if (outcome === 'reembedded') reembedded++;
        else if (outcome === 'held') held++;
        else if (outcome !== 'gone') {
          const k = `${t.subjectId}\u0000${t.purposeId}`;
          const e = reenroll.get(k) ?? {
            subjectId: t.subjectId,
            purpose: t.purposeKey,
            consentId: t.consentId,
            sourceReference: t.sourceReference,
            templates: 0,
            reasons: [],
          };
          e.templates++;
          if (!e.reasons.includes(outcome)) e.reasons.push(outcome);
          reenroll.set(k, e);
        }
      }
    }
    const suppressionsNotCarried = (await suppressionCounts(this.deps.store.db, model)).staleSuppressions;
    const report = { model, dryRun, reembedded, held, reenroll: [...reenroll.values()], suppressionsNotCarried };
    return { report, done, stopped };
  }

  /** One template: made again from its kept photo, or the reason it cannot be. */
  private async one(
    actor: Actor,
    t: StaleTemplateRow,
    dryRun: boolean,
    fence: (tx: Tx) => Promise<void>,
  ): Promise<'reembedded' | 'gone' | 'held' | ReenrollReason> {
    const db = this.deps.store.db;
    // Read again: since the page was read the person may have been restricted, or their data here removed.
    const now = await this.fate(t);
    if (now) return now;
    if (!t.keepsPhotos || !t.imagePath) return 'photo-not-kept';
    let key: Buffer;
    try {
      key = await this.deps.keyring.get(db, t.subjectId);
    } catch (e) {
      if (isVeilError(e, 'KEY_DESTROYED')) return 'gone';
      throw e;
    }
    const photo = this.deps.vault.readImage(key, t);
    // A photo goes after the commit that removed its template: gone, not missing, if the template went.
    if (!photo) return (await this.fate(t)) ?? 'photo-missing';
    const analysis = await this.deps.engine.analyze(photo);
    let face;
    try {
      face = enrollmentFace(analysis.faces, 1).face;
    } catch (e) {
      if (isVeilError(e, 'NO_FACE')) return 'no-face';
      if (isVeilError(e, 'MULTIPLE_FACES')) return 'multiple-faces';
      throw e;
    }
    if (face.model !== this.deps.vault.model)
      throw new VeilError('MODEL_MISMATCH', 'The engine produced a template from another model than the active one.');
    if (dryRun) return 'reembedded';
    const id = newId.template();
    const imagePath = this.deps.vault.writeImage(key, id, t.subjectId, t.purposeId, photo);
    try {
      await this.deps.lifecycle.replaceTemplate(t, actor, async (tx) => {
        await fence(tx);
        // Restricted while the photo was analysed: nothing is stored (Art. 18), the old template stays.
        const state = (await subjects.get(tx, t.subjectId))?.state; // locked for the change (lifecycle)
        if (state === 'restricted')
          throw new VeilError('SUBJECT_RESTRICTED', 'The subject was restricted during re-embedding.');
        if (state !== 'active') throw new VeilError('CONFLICT', 'The subject was erased during re-embedding.');
        const now = this.deps.clock.now().toISOString();
        const sealed = this.deps.vault.sealTemplate(key, id, t.subjectId, t.purposeId, face.embedding);
        const row = { id, subjectId: t.subjectId, purposeId: t.purposeId, model: face.model, sealed, imagePath };
        const quality = qualityNumbers(face.quality);
        await subjects.insertTemplate(
          tx,
          { ...row, quality, sourceSha256: sha256(photo), createdAt: now },
          face.embedding.length,
        );
        return { replacedBy: id, from: t.model, model: face.model };
      });
    } catch (e) {
      this.deps.vault.deleteFiles([imagePath]);
      if (isVeilError(e, 'CONFLICT')) return 'gone';
      if (isVeilError(e, 'SUBJECT_RESTRICTED')) return 'held';
      throw e;
    }
    return 'reembedded';
  }

  /** 'gone' or 'held' when the template may no longer be processed; null while it may. */
  private async fate(t: StaleTemplateRow): Promise<'gone' | 'held' | null> {
    const state = await repo.templateSubjectState(this.deps.store.db, t.id);
    return state === null || state === 'erased' ? 'gone' : state === 'restricted' ? 'held' : null;
  }
}

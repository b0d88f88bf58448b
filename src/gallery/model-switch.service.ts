import { createHash } from 'node:crypto';
import type { Actor } from '../auth/actor.js';
import { newId, type SubjectId } from '../ids.js';
import { VeilError, isVeilError } from '../errors.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { CoreDeps } from '../service-deps.js';
import { enrollmentFace } from './enrollment-gate.js';
import type { FaceDataLifecycle } from './face-data.lifecycle.js';
import { modelSwitchRepository as repo, type StaleTemplateRow } from './model-switch.repository.js';
import { qualityNumbers } from './numbers.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { suppressionRepository } from './suppression.repository.js';
import type { TemplateVault } from './template-vault.js';
import type { ModelCalibration, StoredTail } from '../face/model-calibration.js';

/** Templates per model id; only the active model's are ever compared. */
export interface ModelStatus {
  readonly active: string;
  readonly models: readonly { model: string; templates: number; withPhoto: number; active: boolean }[];
  /** Templates of other models: never matched until re-embedded (or re-enrolled). */
  readonly stale: number;
  /** Do-not-enroll entries per model id; only the active model's block anyone. */
  readonly suppressions: readonly { model: string; entries: number; active: boolean }[];
  /**
   * Do-not-enroll entries of other models: they block nothing under the active model, and no run
   * can make them again (the list keeps no photo). docs/models.md says what to do.
   */
  readonly staleSuppressions: number;
  /** The numbers the active model decides with, and the data its impostor tail was fitted on. */
  readonly calibration: CalibrationSummary;
}

export interface CalibrationSummary {
  readonly threshold: number;
  readonly strictThreshold: number;
  readonly tail: StoredTail;
}

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

const PAGE = 500;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * Switching the active embedder (VEIL_EMBEDDER). Templates of another model id are never compared
 * (TemplateVault); this makes them again under the active model from the enrollment photo where
 * the purpose keeps it, and lists who must enroll again where it does not. Each template is
 * replaced in its own transaction through the face-data lifecycle, so a run that stops resumes
 * where it was, and a second run finds nothing left to do.
 */
export class ModelSwitch {
  constructor(
    private readonly deps: CoreDeps & {
      engine: FaceAnalyzer;
      keyring: KeyRing;
      vault: TemplateVault;
      lifecycle: FaceDataLifecycle;
      calibration: ModelCalibration;
    },
  ) {}

  async status(actor: Actor): Promise<ModelStatus> {
    this.deps.policy.require(actor, 'models.manage');
    const active = this.deps.vault.model;
    const counts = await repo.countsByModel(this.deps.store.db);
    // The active model first (listed even with no template yet), then the others by id.
    const mine = counts.find((c) => c.model === active) ?? { model: active, templates: 0, withPhoto: 0 };
    const models = [
      { ...mine, active: true },
      ...counts.filter((c) => c !== mine).map((c) => ({ ...c, active: false })),
    ];
    const stale = counts.filter((c) => c.model !== active).reduce((n, c) => n + c.templates, 0);
    const { suppressions, staleSuppressions } = await this.suppressions(active);
    const { threshold, strictThreshold, tail } = this.deps.calibration;
    return {
      active,
      models,
      stale,
      suppressions,
      staleSuppressions,
      calibration: { threshold, strictThreshold, tail },
    };
  }

  private async suppressions(active: string) {
    const suppressions = (await suppressionRepository.countsByModel(this.deps.store.db)).map((c) => ({
      ...c,
      active: c.model === active,
    }));
    const staleSuppressions = suppressions.filter((c) => !c.active).reduce((n, c) => n + c.entries, 0);
    return { suppressions, staleSuppressions };
  }

  async reembed(
    actor: Actor,
    opts: { dryRun?: boolean; onProgress?: (done: number) => void } = {},
  ): Promise<ReembedReport> {
    this.deps.policy.require(actor, 'models.manage');
    const model = this.deps.vault.model;
    const dryRun = opts.dryRun ?? false;
    const reenroll = new Map<string, ReenrollEntry & { reasons: ReenrollReason[]; templates: number }>();
    let reembedded = 0;
    let held = 0;
    let done = 0;
    for (let after = ''; ;) {
      const rows = await repo.stale(this.deps.store.db, model, after, PAGE);
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      for (const t of rows) {
        opts.onProgress?.(++done);
        // An erased subject's rows are going; a restricted one's may be stored, not processed (Art. 18).
        if (t.subjectState === 'erased') continue;
        if (t.subjectState === 'restricted') {
          held++;
          continue;
        }
        const outcome = await this.one(actor, t, dryRun);
        if (outcome === 'reembedded') reembedded++;
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
    const suppressionsNotCarried = (await this.suppressions(model)).staleSuppressions;
    const report: ReembedReport = {
      model,
      dryRun,
      reembedded,
      held,
      reenroll: [...reenroll.values()],
      suppressionsNotCarried,
    };
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'models.reembed.run',
        detail: { model, dryRun, reembedded, held, toReenroll: report.reenroll.length, suppressionsNotCarried },
      }),
    );
    return report;
  }

  /** One template: made again from its kept photo, or the reason it cannot be. */
  private async one(
    actor: Actor,
    t: StaleTemplateRow,
    dryRun: boolean,
  ): Promise<'reembedded' | 'gone' | ReenrollReason> {
    if (!t.keepsPhotos || !t.imagePath) return 'photo-not-kept';
    const db = this.deps.store.db;
    let key: Buffer;
    try {
      key = await this.deps.keyring.get(db, t.subjectId);
    } catch (e) {
      if (isVeilError(e, 'KEY_DESTROYED')) return 'gone';
      throw e;
    }
    const photo = this.deps.vault.readImage(key, t);
    if (!photo) return 'photo-missing';
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
      throw e;
    }
    return 'reembedded';
  }
}

import type { Actor } from '../auth/actor.js';
import type { ModelCalibration, StoredTail } from '../face/model-calibration.js';
import { modelSwitchRepository as repo } from './model-switch.repository.js';
import { ReembedRuns, type ReembedRun, type RunLog } from './reembed-runs.service.js';
import { ReembedWalk, suppressionCounts, type ReembedDeps, type ReembedReport } from './reembed.walk.js';

export type { ReembedReport, ReenrollEntry, ReenrollReason } from './reembed.walk.js';
export type { ReembedRun, RunLog } from './reembed-runs.service.js';

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

/**
 * Switching the active embedder (VEIL_EMBEDDER). Templates of another model id are never compared
 * (TemplateVault); a re-embedding run makes them again under the active model from the enrollment
 * photo where the purpose keeps it, and lists who must enroll again where it does not
 * (reembed.walk.ts). Runs go one at a time across processes, in the background for the API or the
 * foreground for the CLI, and can be watched and cancelled (reembed-runs.service.ts).
 */
export class ModelSwitch {
  private readonly runs: ReembedRuns;

  constructor(private readonly deps: ReembedDeps & { calibration: ModelCalibration; log: RunLog }) {
    this.runs = new ReembedRuns({ ...deps, walk: new ReembedWalk(deps), model: deps.vault.model });
  }

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
    const { suppressions, staleSuppressions } = await suppressionCounts(this.deps.store.db, active);
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

  /**
   * A run in the foreground (the CLI), under the same rules; its report at the end. `model`: the one
   * the caller means to re-embed toward (a rolling switch: reembed-run-ledger.ts).
   */
  reembed(actor: Actor, opts: RunOptions & { onProgress?: (done: number) => void } = {}): Promise<ReembedReport> {
    return this.runs.foreground(actor, opts);
  }

  /** A run in this process's background (the API): answered at once, watched and cancelled by its id. */
  startReembed(actor: Actor, opts: RunOptions = {}): Promise<ReembedRun> {
    return this.runs.start(actor, opts);
  }

  reembedRun(actor: Actor, id: string): Promise<ReembedRun> {
    return this.runs.get(actor, id);
  }

  /** The latest runs, newest first (their reports: by id). */
  reembedRuns(actor: Actor): Promise<ReembedRun[]> {
    return this.runs.list(actor);
  }

  cancelReembed(actor: Actor, id: string): Promise<ReembedRun> {
    return this.runs.cancel(actor, id);
  }

  /** Shutting down: a run of this process stops between templates (a later start carries on). */
  stop(): Promise<void> {
    return this.runs.stop();
  }
}

type RunOptions = { dryRun?: boolean; model?: string | undefined };

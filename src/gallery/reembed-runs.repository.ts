import type { Executor } from '../store/store.js';
import type { ReembedRunsTable } from '../store/schema-gallery.js';

export type RunState = 'running' | 'done' | 'failed' | 'cancelled';

/** A re-embedding run as stored: state, progress, and the report or error it ended with. */
export interface RunRow {
  readonly id: string;
  readonly model: string;
  readonly dryRun: boolean;
  readonly state: RunState;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  readonly done: number;
  readonly total: number;
  readonly cancelRequested: boolean;
  /** The report as JSON; null until the run ends (and for a failed one). */
  readonly report: string | null;
  readonly error: { readonly code: string; readonly message: string } | null;
}

type Row = ReembedRunsTable;

const toRun = (r: Row): RunRow => ({
  id: r.id,
  model: r.model,
  dryRun: Boolean(r.dry_run),
  state: r.state as RunState,
  startedAt: r.started_at,
  finishedAt: r.finished_at,
  done: Number(r.done),
  total: Number(r.total),
  cancelRequested: Boolean(r.cancel_requested),
  report: r.report,
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
});

export const reembedRunsRepository = {
  async insert(ex: Executor, r: { id: string; model: string; dryRun: boolean; startedAt: string; total: number }) {
    await ex
      .insertInto('reembed_runs')
      .values({
        id: r.id,
        model: r.model,
        dry_run: r.dryRun ? 1 : 0,
        state: 'running',
        started_at: r.startedAt,
        done: 0,
        total: r.total,
        cancel_requested: 0,
      })
      .execute();
  },

  async get(ex: Executor, id: string): Promise<RunRow | null> {
    const r = await ex.selectFrom('reembed_runs').selectAll().where('id', '=', id).executeTakeFirst();
    return r ? toRun(r) : null;
  },

  /** The latest runs first, without their reports. */
  async recent(ex: Executor, limit: number): Promise<RunRow[]> {
    const rows = await ex
      .selectFrom('reembed_runs')
      .select(['id', 'model', 'dry_run', 'state', 'started_at', 'finished_at', 'done', 'total', 'cancel_requested'])
      .select(['error_code', 'error_message'])
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => toRun({ ...r, report: null }));
  },

  /** The latest run that was not a dry run, whatever its state: the model the runs are going toward. */
  async latestApplied(ex: Executor): Promise<{ id: string; model: string } | null> {
    const r = await ex
      .selectFrom('reembed_runs')
      .select(['id', 'model'])
      .where('dry_run', '=', 0)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return r ?? null;
  },

  /** Progress so far; answers whether someone asked the run to stop. */
  async progress(ex: Executor, id: string, done: number): Promise<{ cancelRequested: boolean }> {
    await ex.updateTable('reembed_runs').set({ done }).where('id', '=', id).execute();
    const r = await ex.selectFrom('reembed_runs').select('cancel_requested').where('id', '=', id).executeTakeFirst();
    return { cancelRequested: Boolean(r?.cancel_requested) };
  },

  /** Asks a running run to stop; false when it is not running (any more). */
  async requestCancel(ex: Executor, id: string): Promise<boolean> {
    const r = await ex
      .updateTable('reembed_runs')
      .set({ cancel_requested: 1 })
      .where('id', '=', id)
      .where('state', '=', 'running')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  },

  async finish(
    ex: Executor,
    id: string,
    end: { state: RunState; at: string; done: number; report: string | null; error: RunRow['error'] },
  ): Promise<void> {
    await ex
      .updateTable('reembed_runs')
      .set({
        state: end.state,
        finished_at: end.at,
        done: end.done,
        report: end.report,
        error_code: end.error?.code ?? null,
        error_message: end.error?.message ?? null,
      })
      .where('id', '=', id)
      .execute();
  },

  /** Marks runs still shown running, other than `except`, as ended by `error` (their process stopped). */
  async abandon(ex: Executor, except: string, at: string, error: NonNullable<RunRow['error']>): Promise<void> {
    await ex
      .updateTable('reembed_runs')
      .set({ state: 'failed', finished_at: at, error_code: error.code, error_message: error.message })
      .where('state', '=', 'running')
      .where('id', '!=', except)
      .execute();
  },

  /**
   * Erasure: the person's re-enrollment entries leave every stored report (the runs and their audited
   * counts stay). Ids hold no LIKE wildcard but `_`, which matches itself too: the filter below decides.
   */
  async forgetSubject(ex: Executor, subjectId: string): Promise<void> {
    const rows = await ex
      .selectFrom('reembed_runs')
      .select(['id', 'report'])
      .where('report', 'like', `%${subjectId}%`)
      .execute();
    for (const r of rows) {
      const report = JSON.parse(r.report!) as { reenroll: { subjectId: string }[] };
      report.reenroll = report.reenroll.filter((e) => e.subjectId !== subjectId);
      await ex
        .updateTable('reembed_runs')
        .set({ report: JSON.stringify(report) })
        .where('id', '=', r.id)
        .execute();
    }
  },

  /**
   * Keeps the latest `keep` runs (older reports name people who may since have been erased), and the
   * latest that was not a dry run: it sets the runs' direction (latestApplied), which dry runs after
   * it must not push out of the record.
   */
  async prune(ex: Executor, keep: number): Promise<void> {
    const kept = ex
      .selectFrom('reembed_runs')
      .select('id')
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(keep);
    const direction = ex
      .selectFrom('reembed_runs')
      .select('id')
      .where('dry_run', '=', 0)
      .orderBy('started_at', 'desc')
      .orderBy('id', 'desc')
      .limit(1);
    await ex.deleteFrom('reembed_runs').where('id', 'not in', kept).where('id', 'not in', direction).execute();
  },
};

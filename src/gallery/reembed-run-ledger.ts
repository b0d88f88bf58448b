import type { Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import { newId } from '../ids.js';
import { opsRepository as leases } from '../ops/ops.repository.js';
import type { CoreDeps } from '../service-deps.js';
import { modelSwitchRepository } from './model-switch.repository.js';
import { subjectStateRepository as subjects } from './subject-state.repository.js';
import type { ReembedReport } from './reembed.walk.js';
import { reembedRunsRepository as runs, type RunRow, type RunState } from './reembed-runs.repository.js';

/** Which run may go on: of every process on the database, the holder of this lease (the run's id). */
export const LEASE = 'models-reembed';
/** A live run renews its lease far more often than this; a dead one's frees the next start after it. */
export const REEMBED_LEASE_MS = 60_000;
/** Runs kept for watchers; older ones go (their reports are history, and the audit log keeps the counts). */
export const KEEP = 20;
export const ABANDONED = {
  code: 'JOB_ABANDONED',
  message: 'The process running it stopped before it ended (its lease expired); a new start carries on from there.',
} as const;

export type LedgerDeps = CoreDeps & { readonly model: string };

export interface RunEnd {
  readonly state: RunState;
  readonly done: number;
  readonly report: ReembedReport | null;
  readonly error: RunRow['error'];
}

/**
 * The start of a run, and the rules it must pass: one at a time (the lease), and toward the model the
 * runs are going. During a rolling switch two processes run two active models; a run toward one
 * makes the other's fresh templates again under its own, so each would undo the other's. So a run
 * goes toward the model of the latest run that changed templates, unless the caller names its target
 * (a switch or a rollback, said on purpose); a named target this process does not run is refused.
 */
export async function openRun(
  deps: LedgerDeps,
  actor: Actor,
  opts: { dryRun: boolean; model?: string | undefined },
): Promise<RunRow> {
  const { store, clock, audit, model } = deps;
  if (opts.model !== undefined && opts.model !== model)
    throw new VeilError(
      'MODEL_MISMATCH',
      `This process runs ${model}, not ${opts.model}: start the run on a process running ${opts.model}.`,
      { model: opts.model, active: model },
    );
  const id = newId.other('reemb');
  const now = clock.now();
  if (!(await leases.tryLease(store.db, LEASE, id, now, REEMBED_LEASE_MS))) throw await running(deps);
  try {
    // Read under the lease: no other start can write a run meanwhile.
    const last = await runs.latestApplied(store.db);
    if (opts.model === undefined && last && last.model !== model)
      throw new VeilError(
        'MODEL_MISMATCH',
        `The latest run (${last.id}) made templates under ${last.model}, and this process runs ${model}: a run here would undo it. Start it on a process running ${last.model}, or name ${model} to re-embed toward it on purpose.`,
        { runId: last.id, model: last.model, active: model },
      );
    const total = (await modelSwitchRepository.countsByModel(store.db))
      .filter((c) => c.model !== model)
      .reduce((n, c) => n + c.templates, 0);
    // Runs are told apart by their start (the rule above, the list, what is kept): under the lease, a
    // process whose clock lags the previous run's records its start just after that one's.
    const [prev] = await runs.recent(store.db, 1);
    const at = new Date(Math.max(now.getTime(), prev ? Date.parse(prev.startedAt) + 1 : 0));
    const row = { id, model, dryRun: opts.dryRun, startedAt: at.toISOString(), total };
    const recorded = await store.transaction(async (tx) => {
      // Still ours, in the record's own transaction: a start that stalled past its lease while another
      // took over would otherwise record the taker abandoned and run beside it.
      if (!(await leases.renewLease(tx, LEASE, id, clock.now(), REEMBED_LEASE_MS))) return false;
      // Runs still shown running lost the lease we now hold: their process stopped.
      await runs.abandon(tx, id, row.startedAt, ABANDONED);
      await runs.prune(tx, KEEP - 1);
      await runs.insert(tx, row);
      await audit.append(tx, {
        actor,
        action: 'models.reembed.started',
        detail: { runId: id, model, dryRun: opts.dryRun, total },
      });
      return true;
    });
    if (!recorded) throw await running(deps);
    return (await runs.get(store.db, id))!;
  } catch (e) {
    await leases.releaseLease(store.db, LEASE, id);
    throw e;
  }
}

/** Refused: the run holding the lease (read outside any transaction: SQLite has one connection). */
async function running({ store, clock }: LedgerDeps): Promise<VeilError> {
  const runId = await leases.leaseHolder(store.db, LEASE, clock.now());
  return new VeilError(
    'JOB_RUNNING',
    `A re-embedding run is in progress (${runId ?? 'ending now'}): watch it, cancel it, or start again once it ends.`,
    runId ? { runId } : {},
  );
}

/**
 * The end: the run's state and report, its audit entry and the lease given up, in one transaction,
 * by the lease's holder only. A run that lost its lease (a process stalled past it while another
 * start took over and recorded it abandoned) leaves the record as the taker wrote it, and audits its
 * end as abandoned. Returns the report stored, or `lost`.
 */
export async function closeRun(
  deps: LedgerDeps,
  actor: Actor,
  row: RunRow,
  end: RunEnd,
): Promise<{ report: ReembedReport | null } | 'lost'> {
  const at = deps.clock.now();
  return deps.store.transaction(async (tx) => {
    // The audit lock first: an erasure takes it too before it scrubs stored reports (subject-eraser.ts),
    // so whichever commits first, the person it erases is named by no report.
    await deps.store.serializeAudit(tx);
    // Renewed, never taken again (as a heartbeat): a free lease may have been given up by a taker.
    const held = await leases.renewLease(tx, LEASE, row.id, at, REEMBED_LEASE_MS);
    const ended = held ? end : { ...end, state: 'failed' as const, report: null, error: ABANDONED };
    const kept =
      ended.report &&
      (await subjects.notErased(
        tx,
        ended.report.reenroll.map((e) => e.subjectId),
      ));
    const report = ended.report && {
      ...ended.report,
      reenroll: ended.report.reenroll.filter((e) => kept!.has(e.subjectId)),
    };
    if (held)
      await runs.finish(tx, row.id, { ...ended, at: at.toISOString(), report: report && JSON.stringify(report) });
    const counts = report && {
      reembedded: report.reembedded,
      held: report.held,
      toReenroll: report.reenroll.length,
      suppressionsNotCarried: report.suppressionsNotCarried,
    };
    await deps.audit.append(tx, {
      actor,
      action: 'models.reembed.run',
      detail: {
        runId: row.id,
        state: ended.state,
        model: row.model,
        dryRun: row.dryRun,
        done: ended.done,
        ...counts,
        ...(ended.error ? { error: ended.error.code } : {}),
      },
    });
    if (!held) return 'lost';
    await leases.releaseLease(tx, LEASE, row.id);
    return { report };
  });
}

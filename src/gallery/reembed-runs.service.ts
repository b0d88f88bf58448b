import type { Actor } from '../auth/actor.js';
import { VeilError, isVeilError } from '../errors.js';
import { newId } from '../ids.js';
import { opsRepository as leases } from '../ops/ops.repository.js';
import type { CoreDeps } from '../service-deps.js';
import { modelSwitchRepository } from './model-switch.repository.js';
import { subjectStateRepository as subjects } from './subject-state.repository.js';
import type { ReembedReport, ReembedWalk } from './reembed.walk.js';
import { reembedRunsRepository as runs, type RunRow, type RunState } from './reembed-runs.repository.js';

/** A re-embedding run as its watchers see it (no biometric data: ids and counts). */
export interface ReembedRun {
  readonly id: string;
  readonly state: RunState;
  readonly model: string;
  readonly dryRun: boolean;
  readonly startedAt: string;
  readonly finishedAt: string | null;
  /** Templates looked at of those left to do when the run started. */
  readonly progress: { readonly done: number; readonly total: number };
  readonly cancelRequested: boolean;
  /** Done: the run's report; cancelled: what it did before it stopped. */
  readonly report?: ReembedReport;
  /** Failed: why, as a typed code. */
  readonly error?: { readonly code: string; readonly message: string };
}

/** Which run may go on: of every process on the database, the holder of this lease (the run's id). */
const LEASE = 'models-reembed';
/** A live run renews its lease far more often than this; a dead one's frees the next start after it. */
export const REEMBED_LEASE_MS = 60_000;
/** How often a run renews its lease, writes its progress and reads whether it was cancelled. */
const HEARTBEAT_MS = 500;
/** Runs kept for watchers; older ones go (their reports are history, and the audit log keeps the counts). */
const KEEP = 20;
const ABANDONED = {
  code: 'JOB_ABANDONED',
  message: 'The process running it stopped before it ended (its lease expired); a new start carries on from there.',
} as const;

interface Current {
  readonly id: string;
  stop: boolean;
  done: number;
  ended?: Promise<unknown>;
}

/**
 * Re-embedding runs after a model switch: one at a time across every process on the database (a
 * lease, taken over once a dead run's expires), started in the background (the API) or the
 * foreground (the CLI), watched, and cancelled between templates; each recorded in the audit log
 * when it starts and when it ends. Only an admin bound to every purpose may see or run them.
 */
export class ReembedRuns {
  /** This process's runs (one, unless a run that outlived its lease has not yet noticed). */
  private readonly live = new Map<string, Current>();

  constructor(private readonly deps: CoreDeps & { walk: ReembedWalk; model: string }) {}

  /** Starts a run in this process's background; its state is in the store for every process to answer. */
  async start(actor: Actor, opts: { dryRun?: boolean } = {}): Promise<ReembedRun> {
    this.deps.policy.require(actor, 'models.manage');
    const row = await this.open(actor, opts.dryRun ?? false);
    void this.launch(actor, row); // never rejects: drive() records every end
    return this.view(row, [row.id]);
  }

  /** A run in the foreground (the CLI): the same rule and record, its report returned at the end. */
  async foreground(
    actor: Actor,
    opts: { dryRun?: boolean; onProgress?: (done: number) => void } = {},
  ): Promise<ReembedReport> {
    this.deps.policy.require(actor, 'models.manage');
    const row = await this.open(actor, opts.dryRun ?? false);
    const end = await this.launch(actor, row, opts.onProgress);
    if (end.state === 'failed') throw end.cause;
    if (end.state === 'cancelled') {
      const why = `Run ${row.id} was cancelled after ${end.done} template(s); run again to carry on.`;
      throw new VeilError('INVALID_STATE', why, { runId: row.id });
    }
    return end.report!;
  }

  async get(actor: Actor, id: string): Promise<ReembedRun> {
    this.deps.policy.require(actor, 'models.manage');
    const before = await this.holder();
    const row = await runs.get(this.deps.store.db, id);
    if (!row) throw new VeilError('NOT_FOUND', 'No such re-embedding run.');
    return this.view(row, [before, await this.holder()]);
  }

  /** The latest runs, newest first, without their reports. */
  async list(actor: Actor): Promise<ReembedRun[]> {
    this.deps.policy.require(actor, 'models.manage');
    const before = await this.holder();
    const rows = await runs.recent(this.deps.store.db, KEEP);
    const holders = [before, await this.holder()];
    return rows.map((r) => this.view(r, holders));
  }

  /** Asks a running run to stop before its next template, whichever process runs it. */
  async cancel(actor: Actor, id: string): Promise<ReembedRun> {
    const run = await this.get(actor, id);
    if (run.state !== 'running' || !(await runs.requestCancel(this.deps.store.db, id)))
      throw new VeilError('INVALID_STATE', `The run has ended (${run.state === 'running' ? 'just now' : run.state}).`);
    const cur = this.live.get(id);
    if (cur) cur.stop = true;
    return { ...run, cancelRequested: true };
  }

  /** Shutting down: this process's runs stop before their next template and end as cancelled. */
  async stop(): Promise<void> {
    const all = [...this.live.values()];
    for (const cur of all) cur.stop = true;
    await Promise.all(all.map((cur) => cur.ended));
  }

  private launch(actor: Actor, row: RunRow, onProgress?: (done: number) => void) {
    const cur: Current = { id: row.id, stop: false, done: 0 };
    this.live.set(row.id, cur);
    const ended = this.drive(actor, row, cur, onProgress).finally(() => this.live.delete(row.id));
    cur.ended = ended;
    return ended;
  }

  /** The rule: takes the lease for a new run (or answers which run holds it) and records the start. */
  private async open(actor: Actor, dryRun: boolean): Promise<RunRow> {
    const { store, clock, audit } = this.deps;
    const id = newId.other('reemb');
    const now = clock.now();
    if (!(await leases.tryLease(store.db, LEASE, id, now, REEMBED_LEASE_MS))) {
      const runId = await leases.leaseHolder(store.db, LEASE, now);
      throw new VeilError(
        'JOB_RUNNING',
        `A re-embedding run is in progress (${runId ?? 'ending now'}): watch it, cancel it, or start again once it ends.`,
        runId ? { runId } : {},
      );
    }
    try {
      const total = (await modelSwitchRepository.countsByModel(store.db))
        .filter((c) => c.model !== this.deps.model)
        .reduce((n, c) => n + c.templates, 0);
      const row = { id, model: this.deps.model, dryRun, startedAt: now.toISOString(), total };
      await store.transaction(async (tx) => {
        // Runs still shown running lost the lease we now hold: their process stopped.
        await runs.abandon(tx, id, row.startedAt, ABANDONED);
        await runs.prune(tx, KEEP - 1);
        await runs.insert(tx, row);
        await audit.append(tx, {
          actor,
          action: 'models.reembed.started',
          detail: { runId: id, model: row.model, dryRun, total },
        });
      });
      return (await runs.get(store.db, id))!;
    } catch (e) {
      await leases.releaseLease(store.db, LEASE, id);
      throw e;
    }
  }

  private async drive(actor: Actor, row: RunRow, cur: Current, onProgress?: (done: number) => void) {
    let last = performance.now();
    const next = async (done: number) => {
      cur.done = done;
      onProgress?.(done);
      if (cur.stop) return false;
      if (performance.now() - last < HEARTBEAT_MS) return true;
      last = performance.now();
      return this.heartbeat(row.id, done);
    };
    try {
      const { report, done, stopped } = await this.deps.walk.run(actor, row.dryRun, next);
      onProgress?.(done);
      const state = stopped ? 'cancelled' : 'done';
      const stored = await this.finish(actor, row, { state, done, report, error: null });
      return { state, done, report: stored! } as const;
    } catch (e) {
      const error = isVeilError(e)
        ? { code: e.code, message: e.message }
        : { code: 'INTERNAL', message: 'The run stopped on an unexpected error; start it again to carry on.' };
      // If even this fails (the database is gone), the lease expires and the next start records it.
      await this.finish(actor, row, { state: 'failed', done: cur.done, report: null, error }).catch(() => undefined);
      return { state: 'failed', done: cur.done, error, cause: e } as const;
    }
  }

  /** Renews the lease and writes the progress; false when someone asked the run to stop. */
  private async heartbeat(id: string, done: number): Promise<boolean> {
    const db = this.deps.store.db;
    // Renewed, never taken again: a free lease may have been given up by the run that took over.
    if (!(await leases.renewLease(db, LEASE, id, this.deps.clock.now(), REEMBED_LEASE_MS)))
      throw new VeilError(
        'JOB_ABANDONED',
        `Run ${id} outlived its lease and another run took over; that one carries on.`,
      );
    return !(await runs.progress(db, id, done)).cancelRequested;
  }

  /** The end: the run's state and report, its audit entry and the lease given up, in one transaction. */
  private async finish(
    actor: Actor,
    row: RunRow,
    end: { state: RunState; done: number; report: ReembedReport | null; error: RunRow['error'] },
  ): Promise<ReembedReport | null> {
    const at = this.deps.clock.now().toISOString();
    return this.deps.store.transaction(async (tx) => {
      // The audit lock first: an erasure takes it too before it scrubs stored reports (subject-eraser.ts),
      // so whichever commits first, the person it erases is named by no report.
      await this.deps.store.serializeAudit(tx);
      const kept =
        end.report &&
        (await subjects.notErased(
          tx,
          end.report.reenroll.map((e) => e.subjectId),
        ));
      const report = end.report && {
        ...end.report,
        reenroll: end.report.reenroll.filter((e) => kept!.has(e.subjectId)),
      };
      await runs.finish(tx, row.id, { ...end, at, report: report && JSON.stringify(report) });
      const counts = report && {
        reembedded: report.reembedded,
        held: report.held,
        toReenroll: report.reenroll.length,
        suppressionsNotCarried: report.suppressionsNotCarried,
      };
      await this.deps.audit.append(tx, {
        actor,
        action: 'models.reembed.run',
        detail: {
          runId: row.id,
          state: end.state,
          model: row.model,
          dryRun: row.dryRun,
          done: end.done,
          ...counts,
          ...(end.error ? { error: end.error.code } : {}),
        },
      });
      await leases.releaseLease(tx, LEASE, row.id);
      return report;
    });
  }

  /**
   * Read before and after the runs it judges. A run ends by writing its state and giving up its lease
   * in one transaction, and starts by taking the lease before its row is written: a run shown running
   * whose lease neither read saw has no process behind it.
   */
  private holder(): Promise<string | null> {
    return leases.leaseHolder(this.deps.store.db, LEASE, this.deps.clock.now());
  }

  /** A run shown running whose lease is gone has no process behind it: it is shown as what it is. */
  private view(r: RunRow, holders: readonly (string | null)[]): ReembedRun {
    const dead = r.state === 'running' && !holders.includes(r.id);
    const live = this.live.get(r.id)?.done ?? r.done;
    return {
      id: r.id,
      state: dead ? 'failed' : r.state,
      model: r.model,
      dryRun: r.dryRun,
      startedAt: r.startedAt,
      finishedAt: r.finishedAt,
      progress: { done: r.state === 'running' ? Math.max(live, r.done) : r.done, total: r.total },
      cancelRequested: r.cancelRequested,
      ...(r.report ? { report: JSON.parse(r.report) as ReembedReport } : {}),
      ...(dead ? { error: ABANDONED } : r.error ? { error: r.error } : {}),
    };
  }
}

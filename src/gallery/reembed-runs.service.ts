import type { Actor } from '../auth/actor.js';
import { told } from '../privacy/told.js';
import { VeilError, isVeilError } from '../errors.js';
import { opsRepository as leases } from '../ops/ops.repository.js';
import type { Tx } from '../store/store.js';
import type { ReembedReport, ReembedWalk } from './reembed.walk.js';
import { reembedRunsRepository as runs, type RunRow, type RunState } from './reembed-runs.repository.js';
import { ABANDONED, KEEP, LEASE, REEMBED_LEASE_MS, closeRun, openRun, type LedgerDeps } from './reembed-run-ledger.js';

export { REEMBED_LEASE_MS } from './reembed-run-ledger.js';

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

/** How often a run renews its lease, writes its progress and reads whether it was cancelled. */
const HEARTBEAT_MS = 500;

/** Where a background run's unexpected failure is told: the server's log (stderr by default). */
export interface RunLog {
  error(message: string, fields: Record<string, string>): void;
}

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

  /** Starts between taking the lease and their run being live here: close() waits for them. */
  private readonly starting = new Set<Promise<unknown>>();
  private closed = false;
  private readonly log: RunLog;

  constructor(private readonly deps: LedgerDeps & { walk: ReembedWalk; log: RunLog }) {
    this.log = deps.log;
  }

  /** Starts a run in this process's background; its state is in the store for every process to answer. */
  async start(actor: Actor, opts: StartOptions = {}): Promise<ReembedRun> {
    this.deps.policy.require(actor, 'models.manage');
    const { row } = await this.begin(actor, opts); // its end never rejects: drive() records every end
    return this.view(row, [row.id]);
  }

  /** A run in the foreground (the CLI): the same rule and record, its report returned at the end. */
  async foreground(
    actor: Actor,
    opts: StartOptions & { onProgress?: (done: number) => void } = {},
  ): Promise<ReembedReport> {
    this.deps.policy.require(actor, 'models.manage');
    const { row, ended } = await this.begin(actor, opts, opts.onProgress);
    const end = await ended;
    // An unexpected error is told (scrubbed) in the log: the caller, which prints what it is thrown, gets the record's.
    if (end.state === 'failed')
      throw isVeilError(end.cause) ? end.cause : new VeilError('INTERNAL', end.error.message, { runId: row.id });
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

  /**
   * Shutting down: starts under way are waited for (each holds the lease it took), and this process's
   * runs stop before their next template and end as cancelled, giving their lease up. Later starts are refused.
   */
  async stop(): Promise<void> {
    this.closed = true;
    await Promise.allSettled([...this.starting]);
    const all = [...this.live.values()];
    for (const cur of all) cur.stop = true;
    await Promise.all(all.map((cur) => cur.ended));
  }

  /** Opens a run and launches it, as one step close() can wait for: once it settles, the run is live here. */
  private begin(actor: Actor, opts: StartOptions, onProgress?: (done: number) => void) {
    if (this.closed)
      return Promise.reject(
        new VeilError('SHUTTING_DOWN', 'This process is shutting down: start the run on another, or once it is back.'),
      );
    const begun = openRun(this.deps, actor, { dryRun: opts.dryRun ?? false, model: opts.model }).then((row) => ({
      row,
      ended: this.launch(actor, row, onProgress),
    }));
    this.starting.add(begun);
    const forget = () => void this.starting.delete(begun);
    begun.then(forget, forget);
    return begun;
  }

  private launch(actor: Actor, row: RunRow, onProgress?: (done: number) => void) {
    // Opened while this process closed: the run ends at once, cancelled, and gives its lease up.
    const cur: Current = { id: row.id, stop: this.closed, done: 0 };
    this.live.set(row.id, cur);
    const ended = this.drive(actor, row, cur, onProgress).finally(() => this.live.delete(row.id));
    cur.ended = ended;
    return ended;
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
      // A heartbeat comes every half second at most: a run that stalled past its lease while another took
      // over (or whose lease a host with a clock ahead took) finds out in the template's own transaction,
      // before it writes a template back under the model the taker is leaving.
      const fence = async (tx: Tx) => {
        if (!(await leases.renewLease(tx, LEASE, row.id, this.deps.clock.now(), REEMBED_LEASE_MS)))
          throw lostLease(row.id);
      };
      const { report, done, stopped } = await this.deps.walk.run(actor, row.dryRun, next, fence);
      onProgress?.(done);
      const state = stopped ? 'cancelled' : 'done';
      const stored = await closeRun(this.deps, actor, row, { state, done, report, error: null });
      // Stalled past its lease while another start took over: the taker recorded it, and carries on.
      if (stored === 'lost') return { state: 'failed', done, error: ABANDONED, cause: lostLease(row.id) } as const;
      return { state, done, report: stored.report! } as const;
    } catch (e) {
      const unexpected = !isVeilError(e);
      if (unexpected) this.log.error('re-embedding run stopped on an unexpected error', { runId: row.id, ...told(e) });
      const error = unexpected
        ? { code: 'INTERNAL', message: 'The run stopped on an unexpected error; start it again to carry on.' }
        : { code: e.code, message: e.message };
      // If even this fails (the database is gone), the lease expires and the next start records it.
      await closeRun(this.deps, actor, row, { state: 'failed', done: cur.done, report: null, error }).catch(
        () => undefined,
      );
      return { state: 'failed', done: cur.done, error, cause: e } as const;
    }
  }

  /** Renews the lease and writes the progress; false when someone asked the run to stop. */
  private async heartbeat(id: string, done: number): Promise<boolean> {
    const db = this.deps.store.db;
    // Renewed, never taken again: a free lease may have been given up by the run that took over.
    if (!(await leases.renewLease(db, LEASE, id, this.deps.clock.now(), REEMBED_LEASE_MS))) throw lostLease(id);
    return !(await runs.progress(db, id, done)).cancelRequested;
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

interface StartOptions {
  readonly dryRun?: boolean;
  /** The model the caller means to re-embed toward (reembed-run-ledger.ts: a rolling switch). */
  readonly model?: string | undefined;
}

function lostLease(id: string): VeilError {
  return new VeilError('JOB_ABANDONED', `Run ${id} outlived its lease and another run took over; that one carries on.`);
}

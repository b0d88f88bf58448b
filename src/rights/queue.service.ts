import { actorLabel, actors, type Actor } from '../auth/actor.js';
import type { SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { text } from '../text/index.js';
import { OPEN_STATES, addCalendarMonths, daysLeft, isOverdue, type RightsRequest } from './request.js';
import { requestRepository as repo } from './request.repository.js';
import type { Requester } from './requester.js';
import type { Fulfilment, FulfilResult } from './fulfilment.js';
import type { FulfilOptions } from './handlers/handler.js';
import type { ExportFiles } from './export-files.js';
import { moveRequest } from './transitions.js';
import { queueAgentCallback } from '../drp/outbox.js';
import type { CoreDeps } from '../service-deps.js';
import { matchesOf, type ContestedMatch } from '../gallery/confirmation.service.js';

/** A run older than this with no progress was interrupted (a crash, a restart) and is resumed. */
const INTERRUPTED_AFTER_MS = 10 * 60_000;

/** The DPO's rights queue, on the legal clock: list, extend, deny, review face matches, fulfil. */
export class RightsQueue {
  constructor(
    private readonly deps: CoreDeps & {
      requester: Requester;
      fulfilment: Fulfilment;
      files: ExportFiles;
    },
  ) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  private async read(requestId: string): Promise<RightsRequest> {
    const r = await repo.get(this.deps.store.db, requestId);
    if (!r) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    return r;
  }

  /** A request with where it stands on the legal clock. */
  view(r: RightsRequest): RightsRequest & { daysLeft: number; overdue: boolean } {
    const now = this.now();
    return { ...r, daysLeft: daysLeft(r, now), overdue: isOverdue(r, now) };
  }

  /** A request; a contest also lists the identifications that returned the person, with where each stands. */
  async get(actor: Actor, requestId: string): Promise<RightsRequest & { contested?: ContestedMatch[] }> {
    this.deps.policy.require(actor, 'rights.handle');
    const r = await this.read(requestId);
    if (r.kind !== 'contest') return r;
    const subjects = [...r.matchedSubjects, ...(r.review?.items ?? []).map((i) => i.subjectId)];
    return { ...r, contested: await matchesOf(this.deps.store.db, subjects) };
  }

  async list(
    actor: Actor,
    opts: { overdue?: boolean; open?: boolean; review?: boolean } = {},
  ): Promise<RightsRequest[]> {
    this.deps.policy.require(actor, 'rights.handle');
    const now = this.now();
    const all = await repo.list(
      this.deps.store.db,
      opts.open || opts.overdue || opts.review ? { states: OPEN_STATES } : {},
    );
    return all.filter((r) => (!opts.overdue || isOverdue(r, now)) && (!opts.review || r.review?.state === 'pending'));
  }

  /** Open and overdue requests (metrics, dashboard). */
  async counts(): Promise<{ open: number; overdue: number; awaitingReview: number }> {
    const open = await repo.list(this.deps.store.db, { states: OPEN_STATES });
    return {
      open: open.length,
      overdue: open.filter((r) => isOverdue(r, this.now())).length,
      awaitingReview: open.filter((r) => r.review?.state === 'pending').length,
    };
  }

  /** Closed requests with their deadlines (the dashboard's handling times). */
  async closed(): Promise<{ id: string; kind: string; receivedAt: string; closedAt: string; dueAt: string }[]> {
    return (await repo.list(this.deps.store.db))
      .filter((r) => r.closedAt && r.state === 'fulfilled')
      .map((r) => ({
        id: r.id,
        kind: r.kind,
        receivedAt: r.receivedAt,
        closedAt: r.closedAt!,
        dueAt: r.extendedDueAt ?? r.dueAt,
      }));
  }

  /** Art. 12(3): once, by up to two further months, before the first deadline, with a reason told to the person. */
  async extend(actor: Actor, requestId: string, months: number, reason: string): Promise<RightsRequest> {
    this.deps.policy.require(actor, 'rights.handle');
    const r = await this.read(requestId);
    if (!OPEN_STATES.includes(r.state)) throw new VeilError('INVALID_STATE', `The request is ${r.state}.`);
    if (!Number.isInteger(months) || months < 1 || months > 2)
      throw new VeilError('EXTENSION_REFUSED', 'An extension is 1 or 2 months (Art. 12(3)).');
    if (!reason?.trim() || reason.trim().length < 10) {
      throw new VeilError(
        'EXTENSION_REFUSED',
        'An extension needs a reason the person is told, of at least 10 characters.',
      );
    }
    if (r.extendedDueAt) throw new VeilError('EXTENSION_REFUSED', 'The deadline was already extended once.');
    if (this.now().toISOString() > r.dueAt)
      throw new VeilError('EXTENSION_REFUSED', 'The first deadline has passed: it can no longer be extended.');
    const newDue = addCalendarMonths(new Date(r.dueAt), months).toISOString();
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, { extended_due_at: newDue, extension_reason: reason.trim() });
      await repo.addEvent(
        tx,
        requestId,
        r.state,
        this.now().toISOString(),
        actorLabel(actor),
        `extended to ${newDue}: ${reason.trim()}`,
      );
      await this.deps.audit.append(tx, {
        actor,
        action: 'rights.request.extended',
        detail: { requestId, newDueAt: newDue, months },
      });
      await queueAgentCallback(tx, requestId, 'extended', this.now().toISOString());
    });
    await this.deps.requester.mail(requestId, text(r.language).extensionMail(requestId, newDue, reason.trim()));
    return this.read(requestId);
  }

  async deny(actor: Actor, requestId: string, reason: string, legalGround: string): Promise<RightsRequest> {
    this.deps.policy.require(actor, 'rights.handle');
    const r = await this.read(requestId);
    if (!reason?.trim() || !legalGround?.trim())
      throw new VeilError('INVALID_INPUT', 'A denial needs a reason and its legal ground.');
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, { denial_reason: reason.trim(), denial_ground: legalGround.trim() });
      await moveRequest(this.deps, tx, r, 'denied', actor, reason.trim(), { ground: legalGround.trim() });
    });
    await this.deps.requester.mail(
      requestId,
      text(r.language).closedMail(requestId, 'denied', `${reason.trim()} (${legalGround.trim()})`),
    );
    return this.read(requestId);
  }

  /**
   * The DPO's decision on subjects found by face or held under another basis than consent, after
   * looking at the evidence (scores, purposes, liveness). Approved subjects join the request; a
   * request already answered in part is then completed.
   */
  async review(
    actor: Actor,
    requestId: string,
    d: { decision: 'approve' | 'reject'; subjects?: readonly string[] | undefined; note: string },
  ): Promise<FulfilResult> {
    this.deps.policy.require(actor, 'rights.handle');
    const r = await this.read(requestId);
    if (r.review?.state !== 'pending')
      throw new VeilError('INVALID_STATE', 'This request has nothing waiting for review.');
    if (!d.note?.trim() || d.note.trim().length < 5)
      throw new VeilError('INVALID_INPUT', 'A review decision records its reason (at least 5 characters).');
    // Only what waits is decided now; earlier decisions stand. No list approves all that waits, an empty one none.
    const waiting = [...new Set(r.review.items.filter((i) => !i.decision).map((i) => i.subjectId))];
    const unknown = (d.subjects ?? []).filter((s) => !waiting.includes(s as SubjectId));
    if (unknown.length)
      throw new VeilError('INVALID_INPUT', `Not waiting for review in this request: ${unknown.join(', ')}.`);
    const chosen = d.decision === 'approve' ? ((d.subjects as SubjectId[] | undefined) ?? waiting) : [];
    const items = r.review.items.map((i) =>
      i.decision ? i : { ...i, decision: chosen.includes(i.subjectId) ? ('approved' as const) : ('rejected' as const) },
    );
    const approved = [...new Set([...r.review.approved, ...chosen])];
    const row = (await repo.row(this.deps.store.db, requestId))!;
    const selfieLinked = row.face_matches ? Boolean(JSON.parse(row.face_matches).selfieLinked) : false;
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, {
        review_state: d.decision === 'approve' ? 'approved' : 'rejected',
        review_subjects: ` ${approved.join(' ')} `,
        face_matches: JSON.stringify({ selfieLinked, items }),
        review_note: d.note.trim(),
        reviewed_by: actorLabel(actor),
        reviewed_at: this.now().toISOString(),
      });
      await repo.addEvent(
        tx,
        requestId,
        r.state,
        this.now().toISOString(),
        actorLabel(actor),
        `review ${d.decision}d: ${d.note.trim()}`,
      );
      await this.deps.audit.append(tx, {
        actor,
        action: 'rights.request.reviewed',
        subjectIds: chosen,
        detail: { requestId, decision: d.decision, approved: chosen.length, underReview: waiting.length },
      });
    });
    const now = await this.read(requestId);
    if (now.state === 'in_progress') return this.deps.fulfilment.run(now, actor, {}, 'dpo');
    return { request: now };
  }

  /** The file an access or portability request produced, for the DPO to send by other means. */
  async download(actor: Actor, requestId: string): Promise<{ bytes: Buffer; kind: string }> {
    this.deps.policy.require(actor, 'rights.handle');
    return this.deps.files.read((await this.read(requestId)).outcome);
  }

  /** The same, decrypted a segment at a time (the CLI writes a large ZIP without holding it whole). */
  async downloadStream(actor: Actor, requestId: string): Promise<{ chunks: AsyncIterable<Buffer>; kind: string }> {
    this.deps.policy.require(actor, 'rights.handle');
    return this.deps.files.stream((await this.read(requestId)).outcome);
  }

  /** Carries out a verified request whose review (if any) is decided. */
  async fulfil(actor: Actor, requestId: string, opts: FulfilOptions = {}): Promise<FulfilResult> {
    this.deps.policy.require(actor, 'rights.handle');
    return this.deps.fulfilment.run(await this.read(requestId), actor, opts, 'dpo');
  }

  /**
   * Requests whose fulfilment a crash interrupted start again by themselves (at start-up and every
   * hour). Each handler is idempotent: an erased subject is answered as already erased.
   */
  /** Access and portability files past the 30 days they are kept (the hourly job). */
  expireExports(): Promise<number> {
    return this.deps.files.expire(this.now().toISOString());
  }

  async resumeInterrupted(): Promise<number> {
    const limit = new Date(this.now().getTime() - INTERRUPTED_AFTER_MS).toISOString();
    const stuck = (await repo.list(this.deps.store.db, { states: ['in_progress'] })).filter(
      (r) => r.review?.state !== 'pending',
    );
    let n = 0;
    for (const r of stuck) {
      const row = await repo.row(this.deps.store.db, r.id);
      if (!row?.fulfil_started_at || row.fulfil_started_at > limit) continue;
      await this.deps.fulfilment.run(
        r,
        actors.system('rights-resume'),
        await this.deps.fulfilment.interruptedOptions(r),
        'requester',
      );
      n++;
    }
    return n;
  }
}

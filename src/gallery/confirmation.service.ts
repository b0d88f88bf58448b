import type { Actor } from '../auth/actor.js';
import type { Executor, Tx } from '../store/store.js';
import { newId, type SearchId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import type { CoreDeps } from '../service-deps.js';
import { searchRepository } from './search.repository.js';
import { confirmationRepository as repo, type ConfirmationRow } from './confirmation.repository.js';
import { confirmationOf, nextStep, type Confirmation, type MatchDecision } from './match-confirmation.js';

export interface MatchRef {
  readonly searchId: string;
  readonly face: number;
  readonly subjectId: string;
}

export interface DecisionView {
  readonly by: string;
  readonly role: string;
  readonly decision: MatchDecision;
  readonly at: string;
  /** A contest's request, when the DPO's fulfilment of it recorded the decision. */
  readonly requestId: string | null;
}

export interface MatchView {
  readonly face: number;
  readonly subjectId: SubjectId;
  readonly rank: number;
  readonly similarity: number;
  readonly confirmation: Confirmation;
  readonly decisions: readonly DecisionView[];
}

export interface SearchConfirmations {
  readonly searchId: SearchId;
  readonly purpose: string;
  readonly at: string;
  readonly matches: readonly MatchView[];
}

/**
 * Decisions are listed by time, then by id: an id that sorts in the order this process made them
 * keeps two decisions of the same millisecond in order (a counter, then randomness for uniqueness).
 */
let made = 0;
const decisionId = () => `mcf_${(made++ % 1e9).toString().padStart(9, '0')}${newId.other('x').slice(2, 10)}`;

const who = (a: Pick<Actor, 'kind' | 'id'>) => `${a.kind}:${a.id}`;
const byOf = (r: ConfirmationRow) => `${r.actorKind}:${r.actorId}`;
const same = (r: ConfirmationRow, m: { face: number; subjectId: string }) =>
  r.face === m.face && r.subjectId === m.subjectId;

/**
 * Decisions on the matches of identifications (EU AI Act Art. 14(5)). Only those who may identify
 * under the search's purpose decide; a search another key cannot see does not exist for it. Every
 * decision is a row and an audit entry in one transaction, never with biometric data.
 */
export class MatchConfirmations {
  constructor(private readonly deps: CoreDeps) {}

  async confirm(actor: Actor, m: MatchRef): Promise<MatchView> {
    return this.decide(actor, m, 'confirm');
  }

  async reject(actor: Actor, m: MatchRef): Promise<MatchView> {
    return this.decide(actor, m, 'reject');
  }

  /** Every match of one search with its state and who decided what. */
  async state(actor: Actor, searchId: string): Promise<SearchConfirmations> {
    const { search, purpose } = await this.search(actor, 'matches.read', searchId);
    const rows = await repo.ofSearch(this.deps.store.db, search.id);
    return {
      searchId: search.id,
      purpose: purpose.key,
      at: search.at,
      matches: search.results.map((r) => view(search.confirmations, r, rows)),
    };
  }

  /**
   * A contest upheld (the DPO fulfilling a person's `contest` request): every match of these
   * subjects not yet rejected is rejected in the DPO's name, with the request as its reason.
   */
  async rejectAllOf(tx: Tx, actor: Actor, subjectId: SubjectId, requestId: string): Promise<number> {
    const rows = await repo.ofSubject(tx, subjectId);
    let n = 0;
    for (const d of await searchRepository.disclosuresOf(tx, subjectId)) {
      if (d.kind !== 'identify') continue;
      const match = { searchId: d.id as SearchId, face: Number(d.face), subjectId };
      const prior = rows.filter((r) => r.searchId === d.id && same(r, match));
      if (prior.some((r) => r.decision === 'reject')) continue;
      await this.record(tx, actor, match, 'reject', d.purpose_id, {
        required: d.confirmations ?? 0,
        prior,
        requestId,
      });
      n++;
    }
    return n;
  }

  private async decide(actor: Actor, m: MatchRef, decision: MatchDecision): Promise<MatchView> {
    const { search, purpose } = await this.search(actor, 'matches.confirm', m.searchId);
    const result = search.results.find((r) => r.face === m.face && r.subjectId === m.subjectId);
    if (!result)
      throw new VeilError('NOT_FOUND', `Search ${search.id} did not return that subject for face ${m.face}.`);
    return this.deps.store.transaction(async (tx) => {
      const all = await repo.ofSearch(tx, search.id);
      const prior = all.filter((r) => same(r, result));
      const step = nextStep(
        prior.map((r) => ({ by: byOf(r), decision: r.decision })),
        { by: who(actor), decision },
      );
      if (step === 'refuse')
        throw new VeilError('INVALID_STATE', 'This match was rejected: a rejection is final and cannot be confirmed.');
      if (step === 'record') {
        const row = await this.record(tx, actor, { ...result, searchId: search.id }, decision, purpose.id, {
          required: search.confirmations,
          prior,
          requestId: null,
        });
        all.push(row);
      }
      return view(search.confirmations, result, all);
    });
  }

  private async record(
    tx: Tx,
    actor: Actor,
    m: { searchId: SearchId; face: number; subjectId: SubjectId },
    decision: MatchDecision,
    purposeId: string,
    o: { required: number; prior: readonly ConfirmationRow[]; requestId: string | null },
  ): Promise<ConfirmationRow> {
    const row: ConfirmationRow = {
      id: decisionId(),
      searchId: m.searchId,
      face: m.face,
      subjectId: m.subjectId,
      decision,
      actorKind: actor.kind,
      actorId: actor.id,
      actorRole: actor.role,
      requestId: o.requestId,
      at: this.deps.clock.now().toISOString(),
    };
    await repo.insert(tx, row);
    const after = confirmationOf(
      o.required,
      [...o.prior, row].map((r) => ({ by: byOf(r), decision: r.decision })),
    );
    await this.deps.audit.append(tx, {
      actor,
      action: decision === 'confirm' ? 'match.confirmed' : 'match.rejected',
      subjectIds: [m.subjectId],
      purposeId,
      detail: {
        searchId: m.searchId,
        face: m.face,
        required: after.required,
        confirmations: after.confirmations,
        state: after.state,
        ...(o.requestId ? { requestId: o.requestId } : {}),
      },
    });
    return row;
  }

  /** The search, when the actor may act under its purpose; one the actor may not see reads as missing. */
  private async search(actor: Actor, permission: 'matches.confirm' | 'matches.read', searchId: string) {
    this.deps.policy.require(actor, permission);
    const db = this.deps.store.db;
    const missing = () => new VeilError('NOT_FOUND', `No search '${searchId}'.`);
    const search = await searchRepository.get(db, searchId);
    if (!search || search.kind !== 'identify') throw missing();
    const p = await purposeRepository.byIdOrKey(db, search.purposeId);
    if (!p || !this.deps.policy.bound(actor, p)) throw missing();
    // Suspension and the rest of the purpose's rules, now that the binding is known.
    const purpose = await this.deps.policy.purpose(actor, permission, p.id);
    return { search, purpose };
  }
}

function view(
  required: number,
  r: { face: number; subjectId: SubjectId; rank: number; similarity: number },
  rows: readonly ConfirmationRow[],
): MatchView {
  const mine = rows.filter((x) => same(x, r));
  return {
    face: r.face,
    subjectId: r.subjectId,
    rank: r.rank,
    similarity: r.similarity,
    confirmation: confirmationOf(
      required,
      mine.map((x) => ({ by: byOf(x), decision: x.decision })),
    ),
    decisions: mine.map((x) => ({
      by: byOf(x),
      role: x.actorRole,
      decision: x.decision,
      at: x.at,
      requestId: x.requestId,
    })),
  };
}

/** A match that returned a person, as the DPO sees it when the person contests it. */
export interface ContestedMatch {
  readonly subjectId: SubjectId;
  readonly searchId: string;
  readonly face: number;
  readonly purpose: string;
  readonly at: string;
  /** Who made the search: kind and id. */
  readonly by: string;
  readonly rank: number;
  readonly similarity: number;
  readonly confirmation: Confirmation;
}

/**
 * Every identification that returned these subjects, with where each match stands: for the DPO
 * deciding a contest (the caller has checked the DPO's permission).
 */
export async function matchesOf(ex: Executor, subjectIds: readonly SubjectId[]): Promise<ContestedMatch[]> {
  const purposes = new Map((await purposeRepository.list(ex)).map((p) => [p.id as string, p.key]));
  const out: ContestedMatch[] = [];
  for (const s of new Set(subjectIds)) {
    const rows = await repo.ofSubject(ex, s);
    for (const d of await searchRepository.disclosuresOf(ex, s)) {
      if (d.kind !== 'identify') continue;
      const face = Number(d.face);
      const mine = rows.filter((r) => r.searchId === d.id && r.face === face);
      out.push({
        subjectId: s,
        searchId: d.id,
        face,
        purpose: purposes.get(d.purpose_id) ?? d.purpose_id,
        at: d.at,
        by: `${d.actor_kind}:${d.actor_id}`,
        rank: Number(d.rank),
        similarity: d.similarity,
        confirmation: confirmationOf(
          d.confirmations ?? 0,
          mine.map((x) => ({ by: byOf(x), decision: x.decision })),
        ),
      });
    }
  }
  return out;
}

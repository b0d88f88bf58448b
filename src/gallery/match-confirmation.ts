/**
 * Human oversight of identifications (EU AI Act Art. 14(5)): a purpose may require that a match is
 * "separately verified and confirmed by at least two natural persons" before anything acts on it.
 * The decision rule, pure: a match's state follows from its required count and the decisions made.
 *
 * - Each person is an actor (an API key, or the command line's user): a key must be one person's.
 * - The key that made the search may be one of the confirmers: Art. 14(5) asks for two people in
 *   all, and the searcher who looked at the match is one of them; the second must be another key.
 * - The same key confirming twice counts once.
 * - One rejection makes the match rejected, whatever was confirmed before (and it stays rejected).
 */

/** The most people a purpose may require per match. */
export const MAX_CONFIRMATIONS = 3;

export type MatchDecision = 'confirm' | 'reject';

/** `not-required`: the purpose asked for no confirmation and nobody rejected the match. */
export type ConfirmationState = 'not-required' | 'unconfirmed' | 'confirmed' | 'rejected';

export interface DecisionRecord {
  /** Who decided: the actor's kind and id (`api-key:key_...`). */
  readonly by: string;
  readonly decision: MatchDecision;
}

export interface Confirmation {
  readonly required: number;
  readonly state: ConfirmationState;
  /** Different people who confirmed it. */
  readonly confirmations: number;
}

/** A match's state under its search's rule. */
export function confirmationOf(required: number, decisions: readonly DecisionRecord[]): Confirmation {
  const confirmations = new Set(decisions.filter((d) => d.decision === 'confirm').map((d) => d.by)).size;
  const state: ConfirmationState = decisions.some((d) => d.decision === 'reject')
    ? 'rejected'
    : required <= 0
      ? 'not-required'
      : confirmations >= required
        ? 'confirmed'
        : 'unconfirmed';
  return { required: Math.max(0, required), state, confirmations };
}

/** Whether downstream code may act on the match as one (disclose it, name the person). */
export function counts(c: Pick<Confirmation, 'state'>): boolean {
  return c.state === 'confirmed' || c.state === 'not-required';
}

/**
 * What a new decision does: `record` it; `repeat` when this person already made it (it counts once,
 * nothing new is recorded); `refuse` a confirmation of a rejected match (a rejection is final).
 */
export function nextStep(prior: readonly DecisionRecord[], next: DecisionRecord): 'record' | 'repeat' | 'refuse' {
  if (prior.some((d) => d.by === next.by && d.decision === next.decision)) return 'repeat';
  if (next.decision === 'confirm' && prior.some((d) => d.decision === 'reject')) return 'refuse';
  return 'record';
}

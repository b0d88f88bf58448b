import { VeilError } from '../errors.js';

/** How long an emailed code lives, and how many tries it gets. */
export const CODE_TTL_MS = 30 * 60_000;
export const CODE_MAX_ATTEMPTS = 5;

export interface CodeCheck {
  /** When the code stops working (null: no code is waiting). */
  readonly expiresAt: string | null;
  readonly now: Date;
  /**
   * Counts one attempt in the database, atomically and before the code is compared, and returns the
   * attempts used including this one, or undefined when none was left. Counting first is what holds
   * the limit under concurrency: 26 guesses sent at once each read "0 used" when the count was read,
   * compared, then written back.
   */
  claimAttempt(max: number): Promise<number | undefined>;
  matches(): boolean;
  /** What the person does once locked out ("submit a new request", "start again"). */
  readonly restart: string;
  /** What the person does once the code expired, when it differs ("ask for a new one"). */
  readonly renew?: string;
}

/** The one check of an emailed code, for rights requests and portal enrollments alike. */
export async function checkCode(c: CodeCheck): Promise<void> {
  if (!c.expiresAt || c.expiresAt < c.now.toISOString())
    throw new VeilError('CODE_EXPIRED', `The code has expired; ${c.renew ?? c.restart}.`);
  const used = await c.claimAttempt(CODE_MAX_ATTEMPTS);
  if (used === undefined) throw new VeilError('REQUEST_LOCKED', `Too many wrong codes: ${c.restart}.`);
  if (c.matches()) return;
  const left = CODE_MAX_ATTEMPTS - used;
  throw new VeilError(
    left > 0 ? 'CODE_INVALID' : 'REQUEST_LOCKED',
    left > 0 ? `Wrong code; ${left} attempt(s) left.` : `Too many wrong codes: ${c.restart}.`,
  );
}

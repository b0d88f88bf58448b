import { z } from 'zod';
import type { PurposeId } from '../ids.js';
import { VeilError } from '../errors.js';
import { FPIR_LIMITS } from '../gallery/open-set.js';
import { MAX_CONFIRMATIONS } from '../gallery/match-confirmation.js';

/** GDPR Art. 6(1) lawful bases, with their W3C DPV terms. */
export const LAWFUL_BASES = {
  consent: 'dpv:Consent',
  contract: 'dpv:Contract',
  'legal-obligation': 'dpv:LegalObligation',
  'vital-interests': 'dpv:VitalInterest',
  'public-task': 'dpv:PublicTask',
  'legitimate-interests': 'dpv:LegitimateInterest',
} as const;
export type LawfulBasis = keyof typeof LAWFUL_BASES;

/** GDPR Art. 9(2) conditions for processing biometric data to identify a person, with DPV-GDPR terms. */
export const ART9_CONDITIONS = {
  'explicit-consent': 'dpv-gdpr:A9-2-a',
  'employment-social-protection': 'dpv-gdpr:A9-2-b',
  'vital-interests': 'dpv-gdpr:A9-2-c',
  'made-public': 'dpv-gdpr:A9-2-e',
  'legal-claims': 'dpv-gdpr:A9-2-f',
  'substantial-public-interest': 'dpv-gdpr:A9-2-g',
} as const;
export type Art9Condition = keyof typeof ART9_CONDITIONS;

export type PurposeStatus = 'active' | 'suspended';

export interface Purpose {
  readonly id: PurposeId;
  /** Stable slug, e.g. `event-photo-matching`. */
  readonly key: string;
  readonly name: string;
  /** Shown to people before they consent: who, what, why. */
  readonly description: string;
  readonly lawfulBasis: LawfulBasis;
  readonly art9Condition: Art9Condition;
  /** The law or contract clause relied on, required for every basis but consent. */
  readonly legalReference: string | null;
  /** ISO 8601 duration after the last interaction, at most P3Y. */
  readonly retention: string;
  readonly recipients: readonly string[];
  /** Every search must carry a case reference (investigative galleries). */
  readonly requiresCaseRef: boolean;
  /** Keep enrollment photos (encrypted) rather than only the templates derived from them. */
  readonly keepSourceImages: boolean;
  /**
   * Target false-positive identification rate of its searches: the chance a person not in the
   * gallery is returned, from which each search derives its threshold (src/gallery/open-set.ts).
   */
  readonly fpir: number;
  /**
   * Different people who must confirm each identification before it counts (EU AI Act Art. 14(5));
   * 0: none. Until then a match is `unconfirmed` (src/gallery/match-confirmation.ts).
   */
  readonly confirmations: number;
  readonly status: PurposeStatus;
  readonly createdAt: string;
}

/** The two-person rule's setting: 0 (none) to MAX_CONFIRMATIONS different people per match. */
export const ConfirmationsSchema = z.number().int().min(0).max(MAX_CONFIRMATIONS);

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$/;

/** The parts of an ISO 8601 duration of years/months/weeks/days (the only forms Veil accepts), or null. */
export function parseDuration(iso: string): [years: number, months: number, weeks: number, days: number] | null {
  const m = DURATION.exec(iso);
  if (!m || iso === 'P') return null;
  return m.slice(1).map((x) => Number(x ?? 0)) as [number, number, number, number];
}

/** Days in a duration (years as 365, months as 30 days, for the cap). */
export function durationDays(iso: string): number {
  const d = parseDuration(iso);
  if (!d) throw new VeilError('INVALID_INPUT', `Retention '${iso}' is not an ISO 8601 duration like P1Y, P6M or P90D.`);
  return d[0] * 365 + d[1] * 30 + d[2] * 7 + d[3];
}

/** Moves a date by a duration in calendar units, forwards (sign 1) or backwards (sign -1). */
export function addDuration(from: Date, iso: string, sign: 1 | -1 = 1): Date {
  const d = parseDuration(iso);
  if (!d) throw new VeilError('INVALID_INPUT', `'${iso}' is not an ISO 8601 duration.`);
  const out = new Date(from);
  out.setUTCFullYear(out.getUTCFullYear() + sign * d[0]);
  out.setUTCMonth(out.getUTCMonth() + sign * d[1]);
  out.setUTCDate(out.getUTCDate() + sign * (d[2] * 7 + d[3]));
  return out;
}

/** Illinois BIPA s.15(a): biometric identifiers are destroyed within 3 years of the last interaction. */
export const MAX_RETENTION_DAYS = 3 * 365;

export const PurposeInputSchema = z
  .object({
    key: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a lowercase slug like event-photo-matching'),
    name: z.string().min(1).max(200),
    description: z.string().min(20, 'tell people who, what, why and how long, in at least 20 characters').max(5000),
    lawfulBasis: z.enum(Object.keys(LAWFUL_BASES) as [LawfulBasis, ...LawfulBasis[]]),
    art9Condition: z
      .enum(Object.keys(ART9_CONDITIONS) as [Art9Condition, ...Art9Condition[]])
      .default('explicit-consent'),
    legalReference: z.string().min(5).max(2000).nullable().default(null),
    retention: z.string().default('P1Y'),
    recipients: z.array(z.string().min(1).max(200)).max(50).default([]),
    requiresCaseRef: z.boolean().default(false),
    keepSourceImages: z.boolean().default(false),
    fpir: z.number().min(FPIR_LIMITS.min).max(FPIR_LIMITS.max).default(FPIR_LIMITS.default),
    confirmations: ConfirmationsSchema.default(0),
  })
  .strict();

export type PurposeInput = z.input<typeof PurposeInputSchema>;

/** Validates a purpose definition against the rules that make enrollment under it lawful. */
export function validatePurpose(raw: unknown): z.output<typeof PurposeInputSchema> {
  const parsed = PurposeInputSchema.safeParse(raw);
  if (!parsed.success) {
    throw new VeilError(
      'INVALID_INPUT',
      parsed.error.issues.map((i) => `${i.path.join('.') || 'purpose'}: ${i.message}`).join('; '),
    );
  }
  const p = parsed.data;
  const days = durationDays(p.retention);
  if (days <= 0) throw new VeilError('INVALID_INPUT', 'retention must be longer than zero.');
  if (days > MAX_RETENTION_DAYS)
    throw new VeilError(
      'INVALID_INPUT',
      `retention ${p.retention} exceeds the 3-year maximum (Illinois BIPA s.15(a)).`,
    );
  if (p.lawfulBasis === 'consent' && p.art9Condition !== 'explicit-consent') {
    throw new VeilError(
      'INVALID_INPUT',
      'A purpose based on consent must use explicit consent as its Art. 9(2) condition for biometric data.',
    );
  }
  if (p.lawfulBasis !== 'consent' && !p.legalReference) {
    throw new VeilError(
      'INVALID_INPUT',
      `A purpose based on ${p.lawfulBasis} needs a legalReference naming the law or contract it relies on.`,
    );
  }
  return p;
}

/** Whether enrollment under this purpose needs a consent record (rather than a source reference). */
export function needsConsent(p: Pick<Purpose, 'lawfulBasis' | 'art9Condition'>): boolean {
  return p.lawfulBasis === 'consent' || p.art9Condition === 'explicit-consent';
}

import type { RequestKind } from '../rights/request.js';
import type { UiText } from './ui.en.js';

export type Lang = 'en' | 'fr';

/** A notice's facts, as a purpose gives them. */
export interface NoticeFacts {
  readonly controller: string;
  readonly name: string;
  readonly description: string;
  readonly keepsPhotos: boolean;
  readonly duration: string;
  readonly recipients: readonly string[];
}

/** The one-click actions a verified person can take in the portal. */
export type PortalAction = 'withdraw-consent' | 'erasure' | 'restriction' | 'objection' | 'contest';

/** What the web portal says; web/src/i18n.ts hands it to the browser bundle. */
export interface PortalText {
  readonly title: string;
  readonly intro: string;
  readonly purposes: string;
  readonly noPurposes: string;
  readonly join: string;
  readonly whatHeld: string;
  readonly console: string;
  readonly notice: string;
  readonly consentBox: string;
  readonly email: string;
  readonly emailHelp: string;
  readonly sendCode: string;
  codeSent(email: string): string;
  readonly code: string;
  readonly startAgain: string;
  readonly selfie: string;
  readonly selfieOptional: string;
  readonly selfieHelp: string;
  readonly accessSelfieHelp: string;
  readonly useCamera: string;
  readonly takePhoto: string;
  readonly submitConsent: string;
  readonly needEmail: string;
  readonly needCode: string;
  readonly mustTick: string;
  readonly needPhoto: string;
  readonly recorded: string;
  quality(size: number): string;
  readonly nextSteps: string;
  readonly receipt: string;
  readonly accessIntro: string;
  readonly verify: string;
  readonly nothingHeld: string;
  readonly reviewPending: string;
  readonly yourData: string;
  readonly purposesHeld: string;
  readonly consents: string;
  readonly photosOfMe: string;
  readonly searches: string;
  readonly none: string;
  readonly downloadZip: string;
  readonly actions: string;
  readonly withdraw: string;
  readonly erase: string;
  readonly restrict: string;
  readonly object: string;
  readonly contest: string;
  /** Where a match that returned the person stands (the two-person rule, or a rejection). */
  matchState(state: string, confirmations: number, required: number): string;
  readonly confirm: Readonly<Record<PortalAction, string>>;
  readonly done: string;
  readonly actionPending: string;
  readonly certificate: string;
  readonly error: string;
  readonly language: string;
  /** The page an authorized agent sends the person to (its `user_verification_url`). */
  readonly verifyTitle: string;
  readonly verifyIntro: string;
  readonly verifySubmit: string;
  readonly verifyDone: string;
  readonly resend: string;
  readonly resent: string;
}

/** What an authorized agent is told to show the person (`processing_details` of a DRP status). */
export interface DrpText {
  readonly verify: string;
  readonly working: string;
  readonly review: string;
  readonly ready: string;
  readonly erased: string;
  denied(reason: string, ground: string): string;
  extended(due: string, reason: string): string;
  readonly revoked: string;
  readonly notVerified: string;
  readonly notSold: string;
}

export interface Mail {
  readonly subject: string;
  readonly text: string;
}

/**
 * Everything Veil says to people, in one shape per language (en.ts, fr.ts): what the portal and the
 * notices say, the mails, and the plain-language parts of an access export. A missing translation
 * is a type error, not a fallback at run time.
 */
export interface Text extends UiText {
  readonly durationUnits: readonly (readonly [one: string, many: string])[];
  readonly durationJoin: string;
  notice(f: NoticeFacts): string;
  readonly requestKind: Record<RequestKind, string>;
  codeMail(article: string, kind: RequestKind, code: string, requestId: string, due: string): Mail;
  portalCodeMail(purposeName: string, code: string): Mail;
  extensionMail(requestId: string, newDue: string, reason: string): Mail;
  closedMail(requestId: string, state: 'fulfilled' | 'denied', summary: string): Mail;
  readonly outcome: {
    readonly nothingHeld: string;
    readonly ready: string;
    readonly erased: string;
    readonly done: string;
    readonly underReview: string;
  };
  automatedMatching(m: { model: string; dimensions: number; threshold: number; fmr: number }): string;
  readonly rightsReminder: string;
  readonly portal: PortalText;
  readonly drp: DrpText;
}

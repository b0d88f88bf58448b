import type { Actor } from '../../auth/actor.js';
import type { SubjectId } from '../../ids.js';
import type { ErasureCertificate } from '../certificate.js';
import type { RequestKind, RightsRequest } from '../request.js';

export interface FulfilOptions {
  /** Rectification: the new contact email. */
  readonly newEmail?: string | undefined;
  /** Rectification: templates to remove (e.g. a photo of someone else). */
  readonly removeTemplateIds?: readonly string[] | undefined;
  /** Erasure: keep a do-not-enroll template, if the person asked for it. */
  readonly suppress?: boolean | undefined;
}

export interface HandlerContext {
  readonly request: RightsRequest;
  /** The subjects this run may act on: linked to the proven contact, or approved by the DPO. */
  readonly targets: readonly SubjectId[];
  /** Linked subjects whose data under another basis the DPO kept (Art. 17(3)): only their consents go. */
  readonly consentsOnly: readonly SubjectId[];
  readonly actor: Actor;
  readonly opts: FulfilOptions;
  /** The requester's selfie template when it may go on the do-not-enroll list (it is theirs, or the DPO said so). */
  readonly selfie: Float32Array | null;
  readonly now: string;
}

export interface HandlerResult {
  readonly outcome: Record<string, unknown>;
  readonly certificate?: ErasureCertificate;
}

/** One right, carried out for the subjects a verified request may act on. */
export interface RightHandler {
  readonly kinds: readonly RequestKind[];
  fulfil(ctx: HandlerContext): Promise<HandlerResult>;
}

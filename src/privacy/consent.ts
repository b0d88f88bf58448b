import { createHash, sign, verify, createPublicKey, type KeyObject } from 'node:crypto';
import { z } from 'zod';
import { canonicalJson, type Json } from '../audit/canonical.js';
import type { ConsentId, PurposeId, SubjectId } from '../ids.js';
import type { Purpose } from './purpose.js';

export type ConsentState = 'given' | 'withdrawn' | 'expired';
export type CollectionMethod = 'portal' | 'api' | 'paper';

/** A consent record after ISO/IEC TS 27560 and the Kantara Consent Receipt. */
export interface ConsentRecord {
  readonly id: ConsentId;
  readonly subjectId: SubjectId;
  readonly purposeId: PurposeId;
  readonly noticeText: string;
  readonly noticeVersion: string;
  /** SHA-256 of the notice text exactly as shown. */
  readonly noticeHash: string;
  readonly givenAt: string;
  readonly method: CollectionMethod;
  readonly collector: string;
  readonly jurisdiction: string;
  readonly withdrawalMethod: string;
  readonly state: ConsentState;
  readonly stateAt: string;
  readonly expiresAt: string | null;
  readonly history: readonly { state: ConsentState; at: string; actor: string }[];
}

export const ConsentInputSchema = z
  .object({
    purpose: z.string().min(1),
    subjectId: z.string().optional(),
    noticeText: z.string().min(20).max(20_000),
    noticeVersion: z.string().min(1).max(50),
    method: z.enum(['portal', 'api', 'paper']),
    collector: z.string().min(1).max(200),
    jurisdiction: z.string().min(2).max(50).default('EU'),
    withdrawalMethod: z
      .string()
      .min(5)
      .max(500)
      .default('Self-service portal or any rights request; takes effect at once.'),
    expiresAt: z.string().datetime().nullable().default(null),
    contactEmail: z.string().email().optional(),
    region: z.string().max(50).optional(),
    /**
     * The name a CompreFace-compatible client will use for this person under this purpose
     * (case-insensitive, unique per purpose); faces added under that name rest on this consent.
     */
    alias: z.string().trim().min(1).max(255).optional(),
  })
  .strict();

export type ConsentInput = z.input<typeof ConsentInputSchema>;

export function noticeHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The receipt a person keeps: every field that proves what they agreed to, signed by the controller. */
export interface ConsentReceipt {
  readonly version: 'veil.consent-receipt.v1';
  readonly receiptId: ConsentId;
  readonly jurisdiction: string;
  readonly consentTimestamp: string;
  readonly collectionMethod: CollectionMethod;
  readonly collector: string;
  readonly piiPrincipalId: SubjectId;
  readonly controller: string;
  readonly purpose: {
    readonly key: string;
    readonly name: string;
    readonly description: string;
    readonly lawfulBasis: string;
    readonly art9Condition: string;
    readonly retention: string;
    readonly recipients: readonly string[];
  };
  readonly consentType: 'explicit';
  readonly piiCategories: readonly string[];
  readonly sensitive: true;
  readonly notice: { readonly version: string; readonly sha256: string };
  readonly withdrawalMethod: string;
  readonly state: ConsentState;
  readonly stateAt: string;
  readonly keyId: string;
  readonly signature: string;
}

export function buildReceipt(
  c: ConsentRecord,
  p: Purpose,
  controller: string,
  keyId: string,
  key: KeyObject,
): ConsentReceipt {
  const body: Omit<ConsentReceipt, 'signature'> = {
    version: 'veil.consent-receipt.v1',
    receiptId: c.id,
    jurisdiction: c.jurisdiction,
    consentTimestamp: c.givenAt,
    collectionMethod: c.method,
    collector: c.collector,
    piiPrincipalId: c.subjectId,
    controller,
    purpose: {
      key: p.key,
      name: p.name,
      description: p.description,
      lawfulBasis: p.lawfulBasis,
      art9Condition: p.art9Condition,
      retention: p.retention,
      recipients: p.recipients,
    },
    consentType: 'explicit',
    piiCategories: [
      'biometric template of the face (dpv-pd:FacialPrint)',
      'face photographs used for enrollment (dpv-pd:Photograph)',
    ],
    sensitive: true,
    notice: { version: c.noticeVersion, sha256: c.noticeHash },
    withdrawalMethod: c.withdrawalMethod,
    state: c.state,
    stateAt: c.stateAt,
    keyId,
  };
  return {
    ...body,
    signature: sign(null, Buffer.from(canonicalJson(body as unknown as Json)), key).toString('base64'),
  };
}

export function verifyReceipt(r: ConsentReceipt, publicKeyPem: string): boolean {
  const { signature, ...body } = r;
  try {
    return verify(
      null,
      Buffer.from(canonicalJson(body as unknown as Json)),
      createPublicKey(publicKeyPem),
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}

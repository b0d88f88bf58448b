/**
 * Erasure certificates: signed statements of what was erased, carrying Merkle inclusion proofs of
 * the audit entries that recorded it. Verifiable with the audit public key and nothing else.
 */
import { createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { canonicalJson, type Json } from '../audit/canonical.js';
import { verifyInclusion } from '../audit/merkle.js';
import { verifyHeadSignature, type TreeHead } from '../audit/tree-head.js';

export interface ProvenEntry {
  readonly seq: number;
  readonly action: string;
  readonly leafHash: string;
  readonly proof: readonly string[];
}

export interface ErasedSubject {
  readonly subjectId: string;
  readonly erasedAt: string;
  readonly alreadyErased: boolean;
  readonly templates: number;
  readonly consents: number;
  readonly sightingsUnlinked: number;
  readonly searchResults: number;
  readonly files: number;
  readonly artifacts: number;
  readonly keyShredded: boolean;
}

export interface ErasureCertificate {
  readonly type: 'veil.erasure-certificate.v1';
  readonly requestId: string | null;
  readonly issuedAt: string;
  readonly controller: string;
  readonly subjects: readonly ErasedSubject[];
  /** Who received the person's data in search results, to notify under Art. 19. */
  readonly recipientsToNotify: readonly { actor: string; purposeId: string; disclosures: number; lastAt: string }[];
  readonly audit: { readonly head: TreeHead; readonly entries: readonly ProvenEntry[] };
  readonly keyId: string;
  readonly signature: string;
}

export function signCertificate(body: Omit<ErasureCertificate, 'signature'>, key: KeyObject): ErasureCertificate {
  return {
    ...body,
    signature: sign(null, Buffer.from(canonicalJson(body as unknown as Json)), key).toString('base64'),
  };
}

/** Checks the signature, the tree head, and every inclusion proof. Returns the problems found. */
export function verifyCertificate(c: ErasureCertificate, publicKeyPem: string): string[] {
  const problems: string[] = [];
  const { signature, ...body } = c;
  try {
    if (
      !verify(
        null,
        Buffer.from(canonicalJson(body as unknown as Json)),
        createPublicKey(publicKeyPem),
        Buffer.from(signature, 'base64'),
      )
    )
      problems.push('certificate signature does not verify');
  } catch {
    problems.push('certificate signature is malformed');
  }
  if (!verifyHeadSignature(c.audit.head, publicKeyPem)) problems.push('tree head signature does not verify');
  const root = Buffer.from(c.audit.head.rootHash, 'hex');
  for (const e of c.audit.entries) {
    try {
      if (
        !verifyInclusion(
          e.seq - 1,
          c.audit.head.size,
          Buffer.from(e.leafHash, 'hex'),
          e.proof.map((p) => Buffer.from(p, 'hex')),
          root,
        )
      )
        problems.push(`entry ${e.seq} is not in the signed log`);
    } catch (err) {
      problems.push(`entry ${e.seq}: ${(err as Error).message}`);
    }
  }
  for (const want of ['subject.erased', 'key.shredded']) {
    if (c.subjects.some((s) => !s.alreadyErased) && !c.audit.entries.some((e) => e.action === want))
      problems.push(`no ${want} entry is proven`);
  }
  return problems;
}

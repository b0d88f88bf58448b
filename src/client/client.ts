import type { z } from 'zod';
import type {
  IdentifyDoc,
  VerifyDoc,
  EnrollDoc,
  DetectDoc,
  PurposeDoc,
  IngestDoc,
  ConsentDoc,
} from '../api/v1/schemas.js';
import type { MatchDoc } from '../api/v1/confirmation.routes.js';
import type { PurposeInput } from '../privacy/purpose.js';
import type { ConsentInput } from '../privacy/consent.js';
import { RightsClient } from './rights-client.js';

export { VeilApiError } from './http.js';

type Img = Uint8Array;
const b64 = (b: Img) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** Every operation the client calls; a test checks each one against /openapi.json. */
export const CLIENT_OPERATIONS = [
  ['POST', '/v1/purposes'],
  ['GET', '/v1/purposes'],
  ['POST', '/v1/consents'],
  ['POST', '/v1/consents/{id}/withdraw'],
  ['GET', '/v1/consents/{id}/receipt'],
  ['POST', '/v1/enroll'],
  ['POST', '/v1/identify'],
  ['POST', '/v1/verify'],
  ['GET', '/v1/searches/{searchId}/confirmations'],
  ['POST', '/v1/searches/{searchId}/faces/{face}/candidates/{subjectId}/confirm'],
  ['POST', '/v1/searches/{searchId}/faces/{face}/candidates/{subjectId}/reject'],
  ['POST', '/v1/detect'],
  ['POST', '/v1/media'],
  ['GET', '/v1/media/{id}/redacted'],
  ['GET', '/v1/subjects/{id}'],
  ['GET', '/v1/subjects/{id}/sightings'],
  ['POST', '/v1/subjects/{id}/restrict'],
  ['POST', '/v1/rights/requests'],
  ['POST', '/v1/rights/requests/{id}/verify'],
  ['GET', '/v1/rights/requests/{id}/result'],
  ['GET', '/v1/rights/requests/{id}/download'],
  ['GET', '/v1/rights/requests'],
  ['GET', '/v1/rights/requests/{id}'],
  ['POST', '/v1/rights/requests/{id}/extend'],
  ['POST', '/v1/rights/requests/{id}/fulfil'],
  ['POST', '/v1/rights/requests/{id}/deny'],
  ['POST', '/v1/rights/requests/{id}/review'],
  ['POST', '/v1/rights/requests/{id}/self-service'],
  ['POST', '/v1/rights/requests/{id}/actions'],
  ['POST', '/v1/portal/enroll'],
  ['POST', '/v1/portal/enroll/{id}/confirm'],
  ['GET', '/v1/audit/head'],
  ['GET', '/v1/audit/proof/{seq}'],
  ['GET', '/v1/audit/export'],
  ['GET', '/v1/audit/pubkey'],
  ['GET', '/v1/audit/entries'],
  ['POST', '/v1/keys'],
] as const;

export interface Accountability {
  caseRef?: string;
  justification?: string;
}

/** Typed TypeScript client for the Veil API; request and response types come from the server's zod schemas. */
export class VeilClient extends RightsClient {
  createPurpose(p: PurposeInput, idempotencyKey?: string) {
    return this.call<z.output<typeof PurposeDoc>>('POST', '/v1/purposes', p, idempotencyKey ? { idempotencyKey } : {});
  }
  listPurposes() {
    return this.call<{ items: z.output<typeof PurposeDoc>[]; nextCursor: null }>('GET', '/v1/purposes');
  }
  giveConsent(c: ConsentInput) {
    return this.call<{ consent: z.output<typeof ConsentDoc>; receipt: Record<string, unknown> }>(
      'POST',
      '/v1/consents',
      c,
    );
  }
  withdrawConsent(id: string) {
    return this.call<{ consent: z.output<typeof ConsentDoc>; templatesDeleted: number }>(
      'POST',
      `/v1/consents/${encodeURIComponent(id)}/withdraw`,
      {},
    );
  }
  consentReceipt(id: string) {
    return this.call<Record<string, unknown>>('GET', `/v1/consents/${encodeURIComponent(id)}/receipt`);
  }
  enroll(
    e: { purpose: string; images: Img[]; consentId?: string; subjectId?: string; sourceReference?: string },
    idempotencyKey?: string,
  ) {
    const { images, ...rest } = e;
    return this.call<z.output<typeof EnrollDoc>>(
      'POST',
      '/v1/enroll',
      { ...rest, images: images.map(b64) },
      idempotencyKey ? { idempotencyKey } : {},
    );
  }
  identify(q: { purpose: string; image: Img; k?: number; threshold?: number } & Accountability) {
    return this.call<z.output<typeof IdentifyDoc>>('POST', '/v1/identify', { ...q, image: b64(q.image) });
  }
  verify(q: { purpose: string; image: Img; subjectId?: string; secondImage?: Img } & Accountability) {
    return this.call<z.output<typeof VerifyDoc>>('POST', '/v1/verify', {
      ...q,
      image: b64(q.image),
      ...(q.secondImage ? { secondImage: b64(q.secondImage) } : {}),
    });
  }
  /** An identification's matches and their state under the two-person rule. */
  confirmations(searchId: string) {
    return this.call<{ searchId: string; purpose: string; at: string; matches: z.output<typeof MatchDoc>[] }>(
      'GET',
      `/v1/searches/${encodeURIComponent(searchId)}/confirmations`,
    );
  }
  /** Confirms or rejects one candidate of one face (counted from 0) of an identification. */
  decideMatch(decision: 'confirm' | 'reject', m: { searchId: string; face: number; subjectId: string }) {
    const at = `/v1/searches/${encodeURIComponent(m.searchId)}/faces/${m.face}/candidates/${encodeURIComponent(m.subjectId)}`;
    return this.call<z.output<typeof MatchDoc>>('POST', `${at}/${decision}`, {});
  }
  detect(image: Img) {
    return this.call<z.output<typeof DetectDoc>>('POST', '/v1/detect', { image: b64(image) });
  }
  ingest(purpose: string, image: Img, filename?: string) {
    return this.call<z.output<typeof IngestDoc>>('POST', '/v1/media', {
      purpose,
      image: b64(image),
      ...(filename ? { filename } : {}),
    });
  }
  redacted(mediaId: string) {
    return this.call<Buffer>('GET', `/v1/media/${encodeURIComponent(mediaId)}/redacted`, undefined, { raw: true });
  }
  subject(id: string) {
    return this.call<Record<string, unknown>>('GET', `/v1/subjects/${encodeURIComponent(id)}`);
  }
  sightings(id: string) {
    return this.call<{ items: Record<string, unknown>[] }>('GET', `/v1/subjects/${encodeURIComponent(id)}/sightings`);
  }
  restrict(id: string, restricted: boolean, reason: string) {
    return this.call<{ subjectId: string; restricted: boolean }>(
      'POST',
      `/v1/subjects/${encodeURIComponent(id)}/restrict`,
      { restricted, reason },
    );
  }
}

import type { z } from 'zod';
import type {
  IdentifyDoc,
  VerifyDoc,
  EnrollDoc,
  DetectDoc,
  PurposeDoc,
  RightsRequestDoc,
  TreeHeadDoc,
  IngestDoc,
  ConsentDoc,
} from '../api/v1/schemas.js';
import type { PurposeInput } from '../privacy/purpose.js';
import type { ConsentInput } from '../privacy/consent.js';
import type { SubmitInput } from '../rights/intake.service.js';

/** An error answer from the API: the RFC 9457 problem with Veil's stable code. */
export class VeilApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly problem: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'VeilApiError';
  }
}

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
export class VeilClient {
  constructor(
    readonly baseUrl: string,
    private readonly token?: string,
  ) {}

  private async call<T>(
    method: string,
    path: string,
    body?: unknown,
    opts: { raw?: boolean; idempotencyKey?: string } = {},
  ): Promise<T> {
    const headers: Record<string, string> = {};
    if (this.token) headers['authorization'] = `Bearer ${this.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;
    const res = await fetch(new URL(path, this.baseUrl), {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) {
      const p = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      throw new VeilApiError(res.status, String(p['code'] ?? 'INTERNAL'), String(p['detail'] ?? res.statusText), p);
    }
    if (opts.raw) return Buffer.from(await res.arrayBuffer()) as T;
    return (await res.json()) as T;
  }

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
  submitRequest(r: SubmitInput) {
    return this.call<{ requestId: string; dueAt: string; state: string }>('POST', '/v1/rights/requests', r);
  }
  verifyRequest(id: string, code: string, selfies: Img[] = []) {
    return this.call<{ state: string; downloadToken: string }>(
      'POST',
      `/v1/rights/requests/${encodeURIComponent(id)}/verify`,
      { code, selfies: selfies.map(b64) },
    );
  }
  requestResult(id: string, token: string) {
    return this.call<{
      state: string;
      kind: string;
      outcome: Record<string, unknown> | null;
      dueAt: string;
      review: 'pending' | 'done' | null;
    }>('GET', `/v1/rights/requests/${encodeURIComponent(id)}/result?token=${encodeURIComponent(token)}`);
  }
  download(id: string, token: string) {
    return this.call<Buffer>(
      'GET',
      `/v1/rights/requests/${encodeURIComponent(id)}/download?token=${encodeURIComponent(token)}`,
      undefined,
      { raw: true },
    );
  }
  listRequests(q: { overdue?: boolean; open?: boolean; review?: boolean; cursor?: string; limit?: number } = {}) {
    const qs = new URLSearchParams(
      Object.entries(q)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.call<{
      items: z.output<typeof RightsRequestDoc>[];
      nextCursor: string | null;
      open: number;
      overdue: number;
      awaitingReview: number;
    }>('GET', `/v1/rights/requests?${qs}`);
  }
  getRequest(id: string) {
    return this.call<z.output<typeof RightsRequestDoc>>('GET', `/v1/rights/requests/${encodeURIComponent(id)}`);
  }
  extendRequest(id: string, months: number, reason: string) {
    return this.call<z.output<typeof RightsRequestDoc>>(
      'POST',
      `/v1/rights/requests/${encodeURIComponent(id)}/extend`,
      { months, reason },
    );
  }
  fulfilRequest(id: string, opts: { suppress?: boolean; newEmail?: string; removeTemplateIds?: string[] } = {}) {
    return this.call<{ request: z.output<typeof RightsRequestDoc>; certificate: Record<string, unknown> | null }>(
      'POST',
      `/v1/rights/requests/${encodeURIComponent(id)}/fulfil`,
      opts,
    );
  }
  reviewRequest(id: string, d: { decision: 'approve' | 'reject'; subjects?: string[]; note: string }) {
    return this.call<{ request: z.output<typeof RightsRequestDoc>; certificate: Record<string, unknown> | null }>(
      'POST',
      `/v1/rights/requests/${encodeURIComponent(id)}/review`,
      d,
    );
  }
  selfService(id: string, token: string) {
    return this.call<{
      state: string;
      kind: string;
      outcome: Record<string, unknown> | null;
      dueAt: string;
      review: 'pending' | 'done' | null;
    }>('POST', `/v1/rights/requests/${encodeURIComponent(id)}/self-service`, { token });
  }
  requestAction(id: string, token: string, kind: 'erasure' | 'restriction' | 'objection' | 'withdraw-consent') {
    return this.call<{
      requestId: string;
      downloadToken: string;
      state: string;
      outcome: Record<string, unknown> | null;
      review: 'pending' | 'done' | null;
      certificate: Record<string, unknown> | null;
    }>('POST', `/v1/rights/requests/${encodeURIComponent(id)}/actions`, { token, kind });
  }
  portalStart(purpose: string, email: string, language: 'en' | 'fr' = 'en') {
    return this.call<{ enrollmentId: string }>('POST', '/v1/portal/enroll', { purpose, email, language });
  }
  portalConfirm(enrollmentId: string, code: string, selfie: Img) {
    return this.call<{
      subjectId: string;
      consentId: string;
      receipt: Record<string, unknown>;
      quality: Record<string, number>;
    }>('POST', `/v1/portal/enroll/${encodeURIComponent(enrollmentId)}/confirm`, {
      code,
      consent: true,
      selfie: b64(selfie),
    });
  }
  denyRequest(id: string, reason: string, ground: string) {
    return this.call<z.output<typeof RightsRequestDoc>>('POST', `/v1/rights/requests/${encodeURIComponent(id)}/deny`, {
      reason,
      ground,
    });
  }
  auditHead() {
    return this.call<z.output<typeof TreeHeadDoc>>('GET', '/v1/audit/head');
  }
  auditProof(seq: number) {
    return this.call<{
      seq: number;
      leafHash: string;
      proof: string[];
      treeSize: number;
      head: z.output<typeof TreeHeadDoc>;
    }>('GET', `/v1/audit/proof/${seq}`);
  }
  auditExport() {
    return this.call<Buffer>('GET', '/v1/audit/export', undefined, { raw: true });
  }
  auditPubkey() {
    return this.call<{ keyId: string; publicKey: string }>('GET', '/v1/audit/pubkey');
  }
  auditEntries(q: { subject?: string; purpose?: string; actor?: string; cursor?: string; limit?: number } = {}) {
    const qs = new URLSearchParams(
      Object.entries(q)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]): [string, string] => [k, String(v)]),
    );
    return this.call<{ items: Record<string, unknown>[]; nextCursor: string | null }>('GET', `/v1/audit/entries?${qs}`);
  }
  createKey(k: { name: string; role: string; purposes: string[] }) {
    return this.call<{ key: Record<string, unknown>; token: string }>('POST', '/v1/keys', k);
  }
}

import type { z } from 'zod';
import type { RightsRequestDoc, TreeHeadDoc } from '../api/v1/schemas.js';
import type { SubmitInput } from '../rights/intake.service.js';
import { HttpClient } from './http.js';

type Img = Uint8Array;
const b64 = (b: Img) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');

/** The rights, portal, audit and key operations of the API. */
export class RightsClient extends HttpClient {
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

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

/** The transport under the typed clients: JSON in, JSON (or bytes) out, problems as VeilApiError. */
export class HttpClient {
  constructor(
    readonly baseUrl: string,
    protected readonly token?: string,
  ) {}

  protected async call<T>(
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
}

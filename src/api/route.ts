import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Veil } from '../app/veil.js';
import type { ApiKey, Role } from '../auth/api-keys.js';
import type { Actor } from '../audit/entry.js';
import type { Analysis, DetectedFace } from '../face/engine.js';
import { VeilError } from '../errors.js';

/** FaceEngine and EnginePool both detect. */
export interface FaceDetector {
  detect(bytes: Uint8Array): Promise<Analysis<DetectedFace>>;
}

export interface RouteContext<B, Q, P> {
  readonly veil: Veil;
  readonly engine: FaceDetector;
  readonly key: ApiKey | null;
  readonly actor: Actor;
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
  /** Refuses when the key is not bound to this purpose. Returns the purpose. */
  purpose(ref: string): Promise<Awaited<ReturnType<Veil['purposes']['get']>>>;
}

export interface RouteDef<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
> {
  readonly method: 'GET' | 'POST' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  /** Roles allowed, or 'public' (rate-limited, no key). */
  readonly auth: readonly Role[] | 'public';
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** Response document for 200/201 (JSON). Omitted for binary responses. */
  readonly response?: z.ZodType;
  readonly produces?: string;
  readonly status?: 200 | 201 | 202;
  /** POSTs that create things honour Idempotency-Key. */
  readonly idempotent?: boolean;
  handler(ctx: RouteContext<z.output<B>, z.output<Q>, z.output<P>>): Promise<unknown>;
}

export function route<
  B extends z.ZodType = z.ZodUndefined,
  Q extends z.ZodType = z.ZodUndefined,
  P extends z.ZodType = z.ZodUndefined,
>(def: RouteDef<B, Q, P>): RouteDef {
  return def as unknown as RouteDef;
}

/** An image as base64 in JSON or as a multipart file part. */
export const ImageInput = z
  .union([z.string().min(8), z.instanceof(Buffer)])
  .transform((v, ctx) => {
    if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
    const s = v.includes(',') && v.startsWith('data:') ? v.slice(v.indexOf(',') + 1) : v;
    if (!/^[A-Za-z0-9+/=\s_-]+$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: 'must be base64 image bytes or a multipart file' });
      return z.NEVER;
    }
    return new Uint8Array(Buffer.from(s, 'base64'));
  })
  .meta({
    description: 'Image bytes: base64 in JSON, or a file part in multipart/form-data',
    type: 'string',
    format: 'byte',
  } as never);

/** Multipart fields arrive as strings; numbers and booleans need coercion. */
export const formNumber = () => z.coerce.number();
export const formBool = () => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]);

export function requireRole(key: ApiKey | null, roles: readonly Role[]): ApiKey {
  if (!key) throw new VeilError('UNAUTHENTICATED', 'An API key is required.');
  if (key.role !== 'admin' && !roles.includes(key.role))
    throw new VeilError('FORBIDDEN', `Role ${key.role} may not do this.`);
  return key;
}

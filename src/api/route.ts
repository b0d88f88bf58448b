import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Services } from '../app/veil.js';
import type { Actor } from '../auth/actor.js';
import type { ImageOptions } from '../face/analyzer.js';
import { hasControlCharacters, hasVisibleCharacters } from '../visible-text.js';

/**
 * How a route's caller is known. 'key': an API key is required and checked before the body is read;
 * 'public': a member of the public (rate-limited per address, small bodies, fewer image formats);
 * 'optional-key': public, but a key is honoured (e.g. /metrics when the operator keeps it private);
 * 'agent': an authorized agent's bearer token (Data Rights Protocol), checked before the body is read.
 * What the caller may then do is decided by the service the route calls, never here.
 */
export type Access = 'public' | 'key' | 'optional-key' | 'agent';

export interface RouteContext<B, Q, P> {
  readonly services: Services;
  readonly actor: Actor;
  readonly body: B;
  readonly query: Q;
  readonly params: P;
  /** Which image formats this route accepts (public routes: JPEG, PNG and WebP only). */
  readonly images: ImageOptions;
  readonly req: FastifyRequest;
  readonly reply: FastifyReply;
}

export interface RouteDef<
  B extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  P extends z.ZodType = z.ZodType,
> {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly url: string;
  readonly summary: string;
  readonly tag: string;
  readonly access: Access;
  readonly body?: B;
  readonly query?: Q;
  readonly params?: P;
  /** Response document for 200/201 (JSON). Omitted for binary responses. */
  readonly response?: z.ZodType;
  readonly produces?: string;
  readonly status?: 200 | 201 | 202;
  /** POSTs that create things honour Idempotency-Key. */
  readonly idempotent?: boolean;
  /** The answer carries a secret shown once: it is never kept for an idempotent replay. */
  readonly secretAnswer?: boolean;
  /** The body carries a photo (a larger body limit than plain JSON on public routes). */
  readonly photo?: boolean;
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

/** Free text that must say something: visible characters, no controls (a zero-width space is not a reason). */
export const visible = (max: number) =>
  z
    .string()
    .max(max)
    .refine((v) => !hasControlCharacters(v), 'must not contain control characters')
    .refine(hasVisibleCharacters, 'must contain a visible letter or digit');

import { isIP } from 'node:net';
import { z } from 'zod';

/** Where an effective value came from; later layers win: default < file < env. */
export type Source = 'default' | 'file' | 'env';

/** How a secret is shown: `value` never; `url` with its password (and password-like parameters) replaced. */
export type SecretKind = 'value' | 'url';

/** Reads another setting's raw value, for defaults that follow another setting. */
export type DefaultFn = (raw: (key: string) => unknown) => unknown;

const SETTING: unique symbol = Symbol('veil.setting');

/** One row of the settings table. The zod type validates values from every layer (env values arrive as strings). */
export interface Setting<Z extends z.ZodType = z.ZodType> {
  readonly [SETTING]: true;
  readonly type: Z;
  /** The environment variable, or null for structured settings that only a config file can express. */
  readonly env: string | null;
  /** Settable only in the environment (the config file's own path; CLI remote mode, which must not leak into servers). */
  readonly envOnly: boolean;
  readonly secret: SecretKind | null;
  /** undefined: the setting is optional and stays unset. */
  readonly default: unknown;
  /** How the default reads in docs; a computed default would otherwise differ from machine to machine. */
  readonly defaultDoc: string;
  readonly doc: string;
}

interface Spec<Z extends z.ZodType> {
  readonly type: Z;
  readonly doc: string;
  readonly env?: string;
  readonly envOnly?: true;
  readonly secret?: SecretKind;
  readonly defaultDoc?: string;
}

/** A setting with a default (value or computed), so it always has a value. */
export function setting<Z extends z.ZodType>(spec: Spec<Z> & { default: z.input<Z> | DefaultFn }): Setting<Z>;
/** An optional setting: undefined unless some layer sets it. */
export function setting<Z extends z.ZodType>(spec: Spec<Z>): Setting<z.ZodOptional<Z>>;
export function setting(spec: Spec<z.ZodType> & { default?: unknown }): Setting {
  if (!spec.doc.trim()) throw new Error('every setting needs its documentation line');
  if (typeof spec.default === 'function' && !spec.defaultDoc)
    throw new Error(`a computed default needs defaultDoc (${spec.doc})`);
  const optional = spec.default === undefined;
  return {
    [SETTING]: true,
    type: optional ? spec.type.optional() : spec.type,
    env: spec.env ?? null,
    envOnly: spec.envOnly ?? false,
    secret: spec.secret ?? null,
    default: spec.default,
    defaultDoc: spec.defaultDoc ?? (optional ? 'unset' : JSON.stringify(spec.default)),
    doc: spec.doc,
  };
}

export function isSetting(v: unknown): v is Setting {
  return typeof v === 'object' && v !== null && SETTING in v;
}

/** A nested table of settings; the nesting is the config file's key path. */
export interface Tree {
  readonly [key: string]: Setting | Tree;
}

/** The typed value of a table: each setting's zod output at its key path. */
export type ValuesOf<T> = {
  readonly [K in keyof T]: T[K] extends Setting<infer Z> ? Readonly<z.output<Z>> : ValuesOf<T[K]>;
};

/** Every setting with its dotted key path, in table order. */
export function flatten(tree: Tree, prefix = ''): { readonly key: string; readonly setting: Setting }[] {
  return Object.entries(tree).flatMap(([k, node]) =>
    isSetting(node) ? [{ key: prefix + k, setting: node }] : flatten(node, `${prefix}${k}.`),
  );
}

/** The one schema, built from the table so it cannot describe a setting the table lacks. */
export function schemaOf(tree: Tree): z.ZodObject {
  return z.object(Object.fromEntries(Object.entries(tree).map(([k, n]) => [k, isSetting(n) ? n.type : schemaOf(n)])));
}

// Value types shared by several settings. Environment values are strings, so numbers and booleans
// accept their string spelling too; anything else reaches the inner type and fails there.

export function int(min: number, max = Number.MAX_SAFE_INTEGER) {
  return z.preprocess(
    (v) => (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v) ? Number(v) : v),
    z
      .number({ error: 'expected an integer' })
      .int({ error: 'expected an integer' })
      .min(min, { error: `expected an integer of at least ${min}` })
      .max(max, { error: `expected an integer of at most ${max}` }),
  );
}

const TRUE = ['true', '1'];
const FALSE = ['false', '0'];
function boolFrom(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const s = v.trim().toLowerCase();
  return TRUE.includes(s) ? true : FALSE.includes(s) ? false : v;
}

export function bool() {
  return z.preprocess(boolFrom, z.boolean({ error: 'expected true, false, 1 or 0' }));
}

const PROXY_NAMES = ['loopback', 'linklocal', 'uniquelocal'];
function isProxyAddress(s: string): boolean {
  if (PROXY_NAMES.includes(s)) return true;
  const [addr, bits, ...more] = s.split('/');
  const family = isIP(addr ?? '');
  if (!family || more.length) return false;
  return bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= (family === 4 ? 32 : 128));
}

/** Why VEIL_TRUST_PROXY cannot be `true`. */
export const TRUST_ANY_PROXY =
  "true would believe any client's own X-Forwarded-For (a proxy appends to it), so each client could pick a new address past the per-IP limits: name the proxies instead, e.g. 127.0.0.1 or 10.0.0.0/8";

/**
 * false, or the proxies to trust, as a comma-separated string or (in the file) an array. Not true
 * (TRUST_ANY_PROXY) and not 1/0: Fastify reads a number as a hop count, so "1" meaning "trust
 * everyone" would let clients forge their address past the per-IP limits.
 */
export function trustProxy() {
  return z.preprocess(
    (v) => {
      const s = typeof v === 'string' ? v.trim().toLowerCase() : v;
      const b = s === 'true' ? true : s === 'false' ? false : v;
      return typeof b === 'string'
        ? b
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : b;
    },
    z
      .union([z.boolean(), z.array(z.string()).min(1)], { error: 'expected false or a list of proxy addresses' })
      .refine((v) => v !== true, TRUST_ANY_PROXY)
      .refine(
        (v) => typeof v === 'boolean' || v.every(isProxyAddress),
        'expected IP addresses or CIDRs (or loopback, linklocal, uniquelocal), comma-separated',
      ),
  );
}

function isMasterKey(s: string): boolean {
  if (/^[0-9a-fA-F]{64}$/.test(s)) return true;
  return /^[A-Za-z0-9+/]{43}=?$/.test(s) && Buffer.from(s, 'base64').length === 32;
}

/** Messages never echo the value: this one is a secret. */
export function masterKey() {
  return z.string().refine(isMasterKey, 'expected 32 bytes as 64 hex digits or base64');
}

export function urlWithScheme(schemes: readonly string[], what: string) {
  return z.string().refine((s) => {
    try {
      return schemes.includes(new URL(s).protocol.slice(0, -1));
    } catch {
      return false;
    }
  }, `expected ${what}`);
}

export function isoDuration() {
  return z
    .string()
    .regex(
      /^P(?=\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?$/,
      'expected an ISO 8601 duration in years, months, weeks or days (P1Y)',
    );
}

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { z } from 'zod';
import { VeilError } from '../errors.js';
import {
  flatten,
  isSetting,
  type DefaultFn,
  schemaOf,
  type Setting,
  type Source,
  type Tree,
  type ValuesOf,
} from './setting.js';
import { TABLE } from './table.js';

export type { SecretKind, Setting, Source } from './setting.js';
export { TABLE } from './table.js';

/** The effective, validated settings: nested like the config file, deeply frozen. */
export type Settings = ValuesOf<typeof TABLE>;

/** Every setting with its dotted key path, in table order. */
export const SETTINGS: readonly { readonly key: string; readonly setting: Setting }[] = flatten(TABLE);

/** The one schema over every setting (string spellings from the environment included). */
export const SettingsSchema = schemaOf(TABLE) as unknown as z.ZodType<Settings>;

export type Env = Readonly<Record<string, string | undefined>>;
export type ReadFile = (path: string) => string;

const sources = new WeakMap<object, ReadonlyMap<string, Source>>();

/**
 * Defaults < config file (VEIL_CONFIG, JSON) < environment, validated as a whole. Pure over its
 * inputs, so tests pass an env object instead of touching the process. Throws INVALID_INPUT naming
 * every bad setting with its environment variable; messages never repeat a value, which may be secret.
 */
export function loadSettings(env: Env = process.env, readFile: ReadFile = (p) => readFileSync(p, 'utf8')): Settings {
  const problems: string[] = [];
  const fromEnv = (s: Setting) => (s.env && env[s.env] !== '' ? env[s.env] : undefined);
  const file = new Map<string, unknown>();
  const path = fromEnv(TABLE.configFile);
  if (path !== undefined) {
    const json = readJson(path, readFile);
    if (typeof json === 'string') problems.push(`configFile (VEIL_CONFIG): ${path} ${json}`);
    else collectFile(json, TABLE, '', file, problems);
  }

  const raw = new Map<string, unknown>();
  const from = new Map<string, Source>();
  const computed: { key: string; setting: Setting }[] = [];
  const take = (key: string, value: unknown, source: Source) => (raw.set(key, value), from.set(key, source));
  for (const row of SETTINGS) {
    const e = fromEnv(row.setting);
    if (e !== undefined) take(row.key, e, 'env');
    else if (file.has(row.key)) take(row.key, file.get(row.key), 'file');
    else if (typeof row.setting.default === 'function') computed.push(row);
    else take(row.key, row.setting.default, 'default');
  }
  // After the plain values, so a default that follows another setting sees that setting's final value.
  for (const { key, setting } of computed)
    take(
      key,
      (setting.default as DefaultFn)((k) => raw.get(k)),
      'default',
    );

  const nested: Record<string, unknown> = {};
  // Unset optional settings too, so every section exists and the result has every key.
  for (const { key } of SETTINGS) setPath(nested, key, raw.get(key));
  const parsed = SettingsSchema.safeParse(nested);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const at = issue.path.join('.');
      const row = SETTINGS.find((r) => at === r.key || at.startsWith(r.key + '.'));
      const where = row?.setting.env ?? 'config file';
      const suffix = row && from.get(row.key) === 'file' ? ' (value from the config file)' : '';
      problems.push(`${at || 'settings'} (${where}): ${issue.message}${suffix}`);
    }
  }
  if (problems.length) throw new VeilError('INVALID_INPUT', `Invalid configuration: ${problems.join('; ')}`);
  const settings = deepFreeze(parsed.data as Settings);
  sources.set(settings, from);
  return settings;
}

/** Where each setting's value came from, for settings made by loadSettings. */
export function settingSources(settings: Settings): ReadonlyMap<string, Source> {
  return sources.get(settings) ?? new Map();
}

/** The embedded engine's database file. */
export function sqlitePath(settings: Settings): string {
  return join(settings.dataDir, 'veil.db');
}

/** A setting's value by its dotted key path. */
export function valueAt(settings: Settings, key: string): unknown {
  return key.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], settings);
}

export interface MaskedSetting {
  readonly key: string;
  readonly env: string | null;
  /** The effective value; null when unset; a secret only as '••••(set)' or its URL without the password. */
  readonly value: unknown;
  readonly source: Source | 'unknown';
  readonly secret: boolean;
  readonly default: string;
  readonly doc: string;
}

export const MASK = '••••(set)';

/** The effective settings safe to print or return: one row per setting, secrets masked, with their source. */
export function maskedSettings(settings: Settings): MaskedSetting[] {
  const from = settingSources(settings);
  return SETTINGS.map(({ key, setting }) => {
    const value = valueAt(settings, key);
    return {
      key,
      env: setting.env,
      value:
        value === undefined ? null : setting.secret === 'url' ? maskUrl(String(value)) : setting.secret ? MASK : value,
      source: from.get(key) ?? 'unknown',
      secret: setting.secret !== null,
      default: setting.defaultDoc,
      doc: setting.doc,
    };
  });
}

const PASSWORD_LIKE = /pass|secret|token|key/i;

/** A URL with its password and password-like query parameters (libpq's ?password=, sslpassword) hidden. */
export function maskUrl(s: string): string {
  let u: URL;
  try {
    u = new URL(s);
  } catch {
    return MASK;
  }
  if (u.password) u.password = '****';
  for (const k of [...u.searchParams.keys()]) if (PASSWORD_LIKE.test(k)) u.searchParams.set(k, '****');
  return u.toString();
}

/** The parsed file, or why it could not be read; never the parser's message, which quotes the file (and its secrets). */
function readJson(path: string, readFile: ReadFile): Record<string, unknown> | string {
  let text: string;
  try {
    text = readFile(path);
  } catch (e) {
    return `is not readable (${(e as NodeJS.ErrnoException).code ?? 'error'})`;
  }
  try {
    const json: unknown = JSON.parse(text);
    return isObject(json) ? json : 'is not a JSON object';
  } catch {
    return 'is not valid JSON';
  }
}

function collectFile(obj: object, tree: Tree, prefix: string, out: Map<string, unknown>, problems: string[]): void {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix + k;
    const node = Object.hasOwn(tree, k) ? tree[k] : undefined;
    if (node === undefined) problems.push(`${key} (config file): unknown setting`);
    else if (isSetting(node)) {
      if (node.envOnly) problems.push(`${key} (${node.env}): can only be set in the environment`);
      else if (v !== null) out.set(key, v);
    } else if (isObject(v)) collectFile(v, node, key + '.', out, problems);
    else problems.push(`${key} (config file): expected an object of settings (${Object.keys(node).join(', ')})`);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let at = obj;
  for (const p of parts.slice(0, -1)) at = (at[p] ??= {}) as Record<string, unknown>;
  at[parts[parts.length - 1]!] = value;
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null) {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

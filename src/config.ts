import { loadSettings, sqlitePath, type Env, type Settings } from './config/settings.js';

/**
 * @deprecated Read `loadSettings()` from `src/config/settings.ts`. This shim only keeps today's callers
 * compiling until they are rewired to the settings module; delete it with the last `loadConfig` import.
 */
export type Config = Settings & { readonly sqlitePath: string };

/** @deprecated See `Config`: `loadSettings(env)` plus `sqlitePath(settings)`. */
export function loadConfig(env: Env = process.env): Config {
  const settings = loadSettings(env);
  return { ...settings, sqlitePath: sqlitePath(settings) };
}

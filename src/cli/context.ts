import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadSettings, type Settings } from '../config/settings.js';
import { openVeil, type Services, type StartupNotice } from '../app/veil.js';
import { actors, type Actor } from '../auth/actor.js';
import { VeilError } from '../errors.js';
import type { Io } from './output.js';

/** The local operator, as recorded in the audit log for CLI commands: the machine's owner. */
export function cliActor(): Actor {
  return actors.cli();
}

export type LocalServices = Services & {
  readonly dataDir: string;
  readonly settings: Settings;
  close(): Promise<void>;
};

/**
 * Whether the configured data directory holds a Veil installation: its keystore (keys/), which
 * `veil init` and `veil serve` create after the schema is in place, on either engine.
 */
export function dataDirExists(settings: Settings): boolean {
  return existsSync(join(settings.dataDir, 'keys'));
}

/**
 * A command run from the wrong folder must not start an empty database with a new signing key:
 * only `veil init` and `veil serve` create a data directory.
 */
export function requireDataDir(settings: Settings): void {
  if (dataDirExists(settings)) return;
  throw new VeilError(
    'NOT_FOUND',
    `no Veil data directory at ${settings.dataDir} (its keys/ folder is missing). Run veil in the folder where you ran 'npm start' (its data directory is ./data there), set VEIL_DATA_DIR, or create a new one with 'veil init'.`,
  );
}

export function noticeLine(n: StartupNotice): string {
  return `veil: ${n.level === 'warn' ? 'WARNING: ' : ''}${n.message}\n`;
}

/**
 * Opens Veil over the configured data directory (the face engine loads only if a command needs
 * it) and hands the command its services: commands, like routes, never touch the store or keys.
 */
export async function openLocalServices(
  io: Io,
  env: NodeJS.ProcessEnv = process.env,
  opts: { create?: boolean; notices?: (n: readonly StartupNotice[]) => void; restoring?: boolean } = {},
): Promise<LocalServices> {
  const settings = loadSettings(env);
  if (!opts.create) requireDataDir(settings);
  const v = await openVeil({ dataDir: settings.dataDir, settings, ...(opts.restoring ? { restoring: true } : {}) });
  if (opts.notices) opts.notices(v.notices);
  else for (const n of v.notices) io.err(noticeLine(n));
  return Object.assign(Object.create(null) as object, v.services, {
    dataDir: v.dataDir,
    settings,
    close: () => v.close(),
  }) as LocalServices;
}

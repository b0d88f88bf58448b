import { existsSync } from 'node:fs';
import { loadSettings } from '../config/settings.js';
import { openVeil, type Services } from '../app/veil.js';
import { actors, type Actor } from '../auth/actor.js';
import type { Io } from './output.js';

/** The local operator, as recorded in the audit log for CLI commands: the machine's owner. */
export function cliActor(): Actor {
  return actors.cli();
}

export type LocalServices = Services & { readonly dataDir: string; close(): Promise<void> };

/**
 * Opens Veil over the configured data directory (the face engine loads only if a command needs
 * it) and hands the command its services: commands, like routes, never touch the store or keys.
 */
export async function openLocalServices(io: Io, env: NodeJS.ProcessEnv = process.env): Promise<LocalServices> {
  const settings = loadSettings(env);
  const fresh = !settings.databaseUrl && !existsSync(settings.dataDir);
  const v = await openVeil({ dataDir: settings.dataDir, settings });
  if (fresh) io.err(`veil: created a new data directory ${settings.dataDir}\n`);
  for (const n of v.notices) io.err(`veil: ${n.level === 'warn' ? 'WARNING: ' : ''}${n.message}\n`);
  return Object.assign(Object.create(null) as object, v.services, {
    dataDir: v.dataDir,
    close: () => v.close(),
  }) as LocalServices;
}

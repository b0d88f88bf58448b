import { loadConfig, type Config } from '../config.js';
import { systemClock } from '../clock.js';
import { migrationModeFrom, openStore, type Store } from '../store/store.js';
import { openAuditLog } from '../audit/audit.setup.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Io } from './output.js';

/** What local (embedded) commands work on: the data directory's store and audit log. */
export interface LocalContext {
  readonly config: Config;
  readonly store: Store;
  readonly audit: AuditLog;
  close(): Promise<void>;
}

export async function openLocal(io: Io, env: NodeJS.ProcessEnv = process.env): Promise<LocalContext> {
  const config = loadConfig(env);
  const store = await openStore({
    databaseUrl: config.databaseUrl,
    sqlitePath: config.sqlitePath,
    migrations: migrationModeFrom(env),
  });
  const { audit, keyCreated } = await openAuditLog(store, config.dataDir, systemClock, config.audit, env);
  if (keyCreated)
    io.err(
      `veil: generated the audit signing key ${audit.keyId} in ${config.dataDir}; publish its public key ('veil audit pubkey') so others can verify the log\n`,
    );
  return { config, store, audit, close: () => store.close() };
}

import { userInfo } from 'node:os';
import { openVeil, type Veil } from '../app/veil.js';
import type { Actor } from '../audit/entry.js';

/** The local operator, as recorded in the audit log for CLI commands. */
export function cliActor(): Actor {
  let name = 'local';
  try {
    name = userInfo().username || name;
  } catch {
    /* no passwd entry in some containers */
  }
  return { kind: 'cli', id: name };
}

/** Opens the whole embedded Veil (store, keys, engine, index) over the data directory. */
export async function openLocalVeil(io: Io, env: NodeJS.ProcessEnv = process.env): Promise<Veil> {
  const config = loadConfig(env);
  const v = await openVeil({
    dataDir: config.dataDir,
    env,
    audit: config.audit,
    oversight: config.oversight as never,
    ...(config.databaseUrl ? { databaseUrl: config.databaseUrl } : {}),
  });
  for (const n of v.notices) io.err(`veil: ${n.level === 'warn' ? 'WARNING: ' : ''}${n.message}\n`);
  return v;
}

import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import { AuditLog, DEFAULT_AUDIT_OPTIONS, type AuditLogOptions } from './audit.log.js';
import { loadOrCreateSigningKey } from './signing-key.js';

/** Opens the audit log over a store with the data directory's (or the environment's) signing key. */
export async function openAuditLog(
  store: Store,
  dataDir: string,
  clock: Clock,
  opts: AuditLogOptions = DEFAULT_AUDIT_OPTIONS,
  signingKey: string | undefined = undefined,
): Promise<{ audit: AuditLog; keyCreated: boolean }> {
  const { key, created } = loadOrCreateSigningKey(dataDir, signingKey);
  const audit = new AuditLog({ clock, key, serialize: (tx) => store.serializeAudit(tx as never) }, opts);
  await audit.init(store.db);
  return { audit, keyCreated: created };
}

import type { Clock } from './clock.js';
import type { Store } from './store/store.js';
import type { AuditLog } from './audit/audit.log.js';
import type { AccessPolicy } from './auth/policy.js';

/** What nearly every service needs: the store, the audit log, the clock and the access policy. */
export interface CoreDeps {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly policy: AccessPolicy;
}

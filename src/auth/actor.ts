import { userInfo } from 'node:os';

export const ROLES = ['admin', 'operator', 'investigator', 'dpo', 'auditor'] as const;
export type Role = (typeof ROLES)[number];

import type { AuditActorKind } from '../audit/entry.js';

export type ActorKind = AuditActorKind;

/**
 * Who is acting, and what they may touch. Every service method takes one, so authorization is
 * checked where the data is, not left to each caller. `purposes` are purpose keys or ids the actor
 * is bound to; '*' is every purpose. The audit log records only `kind` and `id`.
 */
export interface Actor {
  readonly kind: ActorKind;
  readonly id: string;
  /** 'public' is a member of the public: no role, only the public operations. */
  readonly role: Role | 'public';
  readonly purposes: '*' | readonly string[];
}

/** The part of an actor the audit log records. */
export type ActorRef = Pick<Actor, 'kind' | 'id'>;

export const actors = {
  /** A local operator at the command line: the machine's owner, every role and purpose. */
  cli(name?: string): Actor {
    let id = name ?? 'local';
    if (!name) {
      try {
        id = userInfo().username || id;
      } catch {
        // no passwd entry in some containers
      }
    }
    return { kind: 'cli', id, role: 'admin', purposes: '*' };
  },
  /** Veil itself: scheduled jobs (retention, expiry), start-up tasks. */
  system(id: string): Actor {
    return { kind: 'system', id, role: 'admin', purposes: '*' };
  },
  /** Someone using the public portal or rights endpoints; proves who they are with codes and tokens. */
  public(id = 'requester'): Actor {
    return { kind: 'public', id, role: 'public', purposes: [] };
  },
  /** An authorized agent (Data Rights Protocol) acting for a person: no role; proves itself by signature and token. */
  agent(id: string): Actor {
    return { kind: 'agent', id, role: 'public', purposes: [] };
  },
  apiKey(key: { id: string; role: Role; purposes: readonly string[] }): Actor {
    return {
      kind: 'api-key',
      id: key.id,
      role: key.role,
      purposes: key.purposes.includes('*') ? '*' : [...key.purposes],
    };
  },
};

export function actorLabel(a: ActorRef): string {
  return `${a.kind}:${a.id}`;
}

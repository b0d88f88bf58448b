import type { Executor, Store } from '../store/store.js';
import { bytesVector, open, seal, vectorBytes } from '../privacy/keys.js';
import type { KeyRing } from '../privacy/keyring.js';
import { isVeilError } from '../errors.js';

/** The key owner of a request's selfie: one keystore slot per request that keeps a selfie. */
const owner = (requestId: string) => `selfie:${requestId}`;
const aad = (requestId: string) => `veil.request-selfie:${requestId}`;

/**
 * A requester's selfie template, kept at most a day so an objection can block that face. It is
 * sealed under a data key of its own in the keystore, not under a key derived from the master key:
 * when it is forgotten the key is shredded, so no copy of the row (a freed page, a dead PostgreSQL
 * tuple, the WAL, a backup) can be opened again, even with the master key.
 */
export class SelfieVault {
  constructor(private readonly deps: { store: Store; keyring: KeyRing }) {}

  async seal(ex: Executor, requestId: string, v: Float32Array, at: string): Promise<Buffer> {
    const key = await this.deps.keyring.getOrCreate(ex, owner(requestId), at);
    return seal(key, vectorBytes(v), aad(requestId));
  }

  /** The template, or null when it was forgotten (its key shredded). */
  async open(ex: Executor, requestId: string, sealed: Buffer): Promise<Float32Array | null> {
    try {
      return bytesVector(open(await this.deps.keyring.get(ex, owner(requestId)), sealed, aad(requestId)));
    } catch (e) {
      if (isVeilError(e, 'KEY_DESTROYED')) return null;
      throw e;
    }
  }

  /** Marks the selfies' keys destroyed in the caller's transaction; `shred()` after commit overwrites them. */
  async forget(ex: Executor, requestIds: readonly string[]): Promise<void> {
    for (const id of requestIds) await this.deps.keyring.destroy(ex, owner(id));
  }

  shred(): Promise<number> {
    return this.deps.keyring.shred(this.deps.store);
  }
}

import type { Executor, Tx } from '../store/store.js';
import { newId } from '../ids.js';
import { bytesVector, open, seal, vectorBytes, type MasterKey } from '../privacy/keys.js';
import { cosine } from '../face/embedder.js';
import { suppressionRepository as repo } from './suppression.repository.js';

/**
 * The do-not-enroll / do-not-match list: templates of people who objected or asked for erasure and
 * chose to be remembered as "never again". Kept under the legal obligation to honour that objection,
 * encrypted under a key derived from the master key, used for nothing but blocking.
 */
export class SuppressionList {
  private cache: { stamp: string; entries: { id: string; v: Float32Array }[] } | null = null;
  private readonly key: Buffer;

  constructor(
    master: MasterKey,
    private readonly threshold: number,
    /** The active embedder: entries kept under another model are another vector space, not compared. */
    private readonly model: string,
  ) {
    this.key = master.derive('suppression');
  }

  async add(tx: Tx, embedding: Float32Array, model: string, reason: string, at: string): Promise<string> {
    const id = newId.other('sup');
    await repo.insert(tx, {
      id,
      model,
      sealed: seal(this.key, vectorBytes(embedding), `veil.suppression:${id}`),
      reason,
      at,
    });
    this.cache = null;
    return id;
  }

  /**
   * The list as it is now, as a predicate: reloaded only when another process (or this one)
   * changed the table, and checked once per operation however many faces it tests.
   */
  async current(ex: Executor): Promise<(embedding: Float32Array) => boolean> {
    const stamp = await repo.stamp(ex);
    if (this.cache?.stamp !== stamp) {
      const rows = await repo.all(ex, this.model);
      this.cache = {
        stamp,
        entries: rows.map((r) => ({ id: r.id, v: bytesVector(open(this.key, r.sealed, `veil.suppression:${r.id}`)) })),
      };
    }
    const entries = this.cache.entries;
    return (embedding) => entries.some((s) => cosine(s.v, embedding) >= this.threshold);
  }

  invalidate(): void {
    this.cache = null;
  }
}

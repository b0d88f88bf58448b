import type { Executor, Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actors, type Actor } from '../auth/actor.js';
import { newId } from '../ids.js';
import { bytesVector, open, seal, vectorBytes } from '../privacy/keys.js';
import type { KeyRing } from '../privacy/keyring.js';
import { suppressionKeyOwner, type JournalChange } from '../privacy/restore-journal.js';
import { reflectedIn } from '../privacy/journal-reflected.js';
import { keySlotRepository as slots } from '../privacy/key-slot.repository.js';
import { cosine } from '../face/embedder.js';
import { suppressionRepository as repo } from './suppression.repository.js';

export type SuppressionLine = Extract<JournalChange, { kind: 'suppression-added' }>;
type Entry = { readonly model: string; readonly reason: string; readonly at: string };

const journalAad = (id: string) => `veil.suppression-journal:${id}`;
/** An entry's template in the list, under the master's derived key (privacy/derived-reseal.ts re-seals it). */
const entryAad = (id: string) => `veil.suppression:${id}`;
/** keystore_state: every entry has its journal line (`SuppressionList.settle`). */
const LINES_WRITTEN = 'suppression-lines-written';

function tryOpen<T>(f: () => T): T | null {
  try {
    return f();
  } catch {
    return null;
  }
}

/**
 * The do-not-enroll / do-not-match list: templates of people who objected or asked for erasure and
 * chose to be remembered as "never again". Kept under the legal obligation to honour that objection,
 * encrypted under a key derived from the master key, used for nothing but blocking. Every entry is
 * also a line of the restore journal, so that a restored backup cannot forget it (restore-journal.ts).
 */
export class SuppressionList {
  private cache: { stamp: string; entries: { id: string; v: Float32Array }[] } | null = null;
  private readonly key: Buffer;

  constructor(
    private readonly deps: { store: Store; audit: AuditLog; keyring: KeyRing },
    private readonly threshold: number,
    /** The active embedder: entries kept under another model are another vector space, not compared. */
    private readonly model: string,
  ) {
    this.key = deps.keyring.master.derive('suppression');
  }

  /**
   * Adds an entry, audited, in one transaction whose last step is its journal line: the template
   * sealed under a new key of the entry's own in the keystore. Adding a block narrows processing, so
   * the line counts from when it is written (restore-journal.ts says why that is the safe side).
   */
  async add(
    actor: Actor,
    e: Entry & { readonly embedding: Float32Array; readonly requestId?: string },
  ): Promise<string> {
    const id = newId.other('sup');
    await this.deps.keyring.journal.journaled(
      (note) =>
        this.deps.store.transaction(async (tx) => {
          await this.insert(tx, id, e, e.embedding);
          await this.deps.audit.append(tx, {
            actor,
            action: 'suppression.added',
            detail: { ...(e.requestId ? { requestId: e.requestId } : {}), suppressionId: id },
          });
          await note(await this.line(tx, id, e, e.embedding));
        }),
      (line) => reflectedIn(this.deps.store.db, line),
    );
    return id;
  }

  /**
   * Adds again, under its id and this list's key, an entry a restored database lacks, from its
   * journal line (src/ops/restore-replay.ts decides which). False when the line's key is gone
   * (destroyed, or its slot holds another's): the entry cannot be read, and nothing is added.
   */
  async restore(actor: Actor, line: SuppressionLine, why = 'replayed after a restore'): Promise<boolean> {
    const owner = suppressionKeyOwner(line.suppressionId);
    if (line.key?.owner !== owner) return false; // a line without its key (damaged) is lost, not a crash of the replay
    const lost = new Error('unreadable');
    return this.deps.store
      .transaction(async (tx) => {
        const key = await this.deps.keyring.reclaim(tx, owner, line.key.slot, line.at);
        const sealed = Buffer.from(line.sealed, 'base64');
        // A line that does not open under its key is as lost as one whose key is gone: nothing is kept, not even the key's row.
        const embedding = key && tryOpen(() => bytesVector(open(key, sealed, journalAad(line.suppressionId))));
        if (!embedding) throw lost;
        await this.insert(tx, line.suppressionId, line, embedding);
        await this.deps.audit.append(tx, {
          actor,
          action: 'suppression.added',
          detail: { suppressionId: line.suppressionId, note: `${why} (added at ${line.at})` },
        });
        return true;
      })
      .catch((e: unknown) => {
        if (e === lost) return false;
        throw e;
      });
  }

  /** Its journal line: the template sealed under a new key of the entry's own (restore-journal.ts says why). */
  private async line(tx: Tx, id: string, e: Entry, embedding: Float32Array): Promise<SuppressionLine> {
    const owner = suppressionKeyOwner(id);
    const { key, slot } = await this.deps.keyring.createSlot(tx, owner, e.at);
    const sealed = seal(key, vectorBytes(embedding), journalAad(id)).toString('base64');
    return {
      kind: 'suppression-added',
      at: e.at,
      suppressionId: id,
      model: e.model,
      reason: e.reason,
      key: { owner, slot },
      sealed,
    };
  }

  /**
   * At start-up, before the list is used. Entries from before their lines were written get one
   * (once: a mark in keystore_state, which a database restored from before then lacks). Then, unless
   * a restore's replay is about to do it (`recover` false), the lines whose key the keystore's sweep
   * spared are applied (`spared`, keystore-upkeep.ts): a crash between a line and its commit left an
   * entry the person asked for, which counts (restore-journal.ts), and the journal must not hold a
   * template the database does not. Entries are never lifted, so a line without its entry is never
   * one undone on purpose. What cannot be applied is told, ids only.
   */
  async settle(spared: ReadonlyMap<string, number>, recover: boolean): Promise<{ level: 'warn'; message: string }[]> {
    await this.writeMissingLines();
    if (!recover || ![...spared.keys()].some((o) => o.startsWith(suppressionKeyOwner('')))) return [];
    const lost: string[] = [];
    for (const line of this.deps.keyring.journal.read()) {
      // A line damaged so that it names no key is as lost as one whose key is gone (the sweep spares it none).
      if (line.kind !== 'suppression-added' || line.key?.slot === undefined) continue;
      if (spared.get(line.key.owner) !== line.key.slot) continue;
      if (await reflectedIn(this.deps.store.db, line)) continue;
      const why = 'its transaction never committed (a crash)';
      const added = await this.restore(actors.system('restore-journal'), line, why).catch(() => false);
      // Another process starting at once may have applied it first.
      if (!added && !(await reflectedIn(this.deps.store.db, line))) lost.push(line.suppressionId);
    }
    return lost.length
      ? [
          {
            level: 'warn',
            message: `Do-not-enroll entries in keys/restore-journal.jsonl could not be added again (their key does not open them): ${lost.join(', ')}. Ask those people again.`,
          },
        ]
      : [];
  }

  private async writeMissingLines(): Promise<void> {
    const { store } = this.deps;
    if (await slots.state(store.db, LINES_WRITTEN)) return;
    let all = true;
    for (const id of await repo.withoutKey(store.db, suppressionKeyOwner(''))) all = (await this.writeLine(id)) && all;
    if (all) await store.transaction((tx) => slots.setState(tx, LINES_WRITTEN, new Date().toISOString()));
  }

  /**
   * An entry's line, unless another process starting at once wrote it first (its key is named then).
   * False, and no line, when the entry does not open under this master's key: a database restored
   * from before a rotation is opened before its replay seals it again, and a later start writes it.
   */
  private writeLine(id: string): Promise<boolean> {
    const { store, keyring } = this.deps;
    return keyring.journal.journaled(
      (note) =>
        store.transaction(async (tx) => {
          const row = await repo.locked(tx, id, store.engine);
          if (!row || !(await repo.withoutKey(tx, suppressionKeyOwner(''), id)).length) return true;
          const embedding = tryOpen(() => bytesVector(open(this.key, row.sealed, entryAad(id))));
          if (!embedding) return false;
          const e = { model: row.model, reason: row.reason, at: row.created_at };
          await note(await this.line(tx, id, e, embedding));
          return true;
        }),
      // The entry was there before: the line counts if its key's row committed.
      async (l) => l.kind === 'suppression-added' && (await slots.slotOf(store.db, l.key.owner)) === l.key.slot,
    );
  }

  private async insert(tx: Tx, id: string, e: Entry, embedding: Float32Array): Promise<void> {
    const sealed = seal(this.key, vectorBytes(embedding), entryAad(id));
    await repo.insert(tx, { id, model: e.model, sealed, reason: e.reason, at: e.at });
    this.cache = null;
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
        entries: rows.map((r) => ({ id: r.id, v: bytesVector(open(this.key, r.sealed, entryAad(r.id))) })),
      };
    }
    const entries = this.cache.entries;
    return (embedding) => entries.some((s) => cosine(s.v, embedding) >= this.threshold);
  }

  invalidate(): void {
    this.cache = null;
  }
}

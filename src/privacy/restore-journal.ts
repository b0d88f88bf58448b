import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ConsentId, PurposeId, SubjectId, TemplateId } from '../ids.js';

/**
 * Changes a restored backup must not undo, kept beside the keystore (`keys/`, never in a backup).
 *
 * The keystore's tombstones bring erasures back after a restore; nothing brought back a consent
 * withdrawn, a purpose's data removed, a restriction set or a purpose suspended since the backup, so the restored
 * database made those people matchable again. One line per change; `veil restore` replays the lines the
 * restored database does not reflect (src/ops/restore-replay.ts). Ids and times only: never a photo or
 * a contact, and a template only sealed, for a do-not-enroll entry (below).
 *
 * A do-not-enroll entry's content is a template, and a restore that lost it would let exactly the
 * person who asked never to be enrolled be enrolled again. Its line carries the template sealed under
 * a data key of the entry's own in the keystore (`key`), not under a key derived from the master key:
 * a master rotation rewraps keystore slots in place, so the line still opens after one without this
 * file being rewritten. While a line counts, its key is not an orphan to the start-up sweep
 * (`keysNeeded`), though a restored database has no row naming it.
 *
 * Every line is written inside its change's transaction, as its last step, while the change holds
 * its rows' locks: so the lines of one person's (or purpose's) changes are in the order those changes
 * committed, which the replay's "last line wins" relies on. What a crash between the line and the
 * commit does depends on the change (`journaled`): a change that narrows processing counts from its
 * line on, so a crash leaves it and a later restore applies the change that was asked for; one that
 * widens it (a restriction lifted, a purpose resumed) counts only once a `confirmed` line follows its
 * commit, so a crash loses it and a restore keeps the narrower state. Either way a crash never makes
 * a restored gallery match more than was asked. A narrowing line whose transaction then fails is
 * cancelled by a later line, unless the database shows the change after all (journal-reflected.ts).
 * A do-not-enroll line left by a crash is applied by a later start (SuppressionList.settle), so this
 * file does not keep a template the database lacks.
 */
export type JournalEntry = JournalChange & { readonly id?: string; readonly pending?: true };

export type JournalChange =
  | {
      readonly kind: 'purpose-removed';
      readonly at: string;
      readonly subjectId: SubjectId;
      readonly purposeId: PurposeId;
      readonly reason: 'consent-withdrawn' | 'consent-expired' | 'retention' | 'unenrolled';
      readonly consentId?: ConsentId;
      /** The templates it deleted (ids only): the replay judges by them, not by clocks. */
      readonly templates?: readonly TemplateId[];
    }
  | { readonly kind: 'restriction'; readonly at: string; readonly subjectId: SubjectId; readonly restricted: boolean }
  /** Rectification or a client's deletion of one face: templates that were not the person's. */
  | {
      readonly kind: 'templates-removed';
      readonly at: string;
      readonly subjectId: SubjectId;
      readonly templates: readonly TemplateId[];
    }
  | {
      readonly kind: 'purpose-status';
      readonly at: string;
      readonly purposeId: PurposeId;
      readonly suspended: boolean;
    }
  /** A purpose's FPIR target or confirmation count changed: that setting's value from then on. */
  | {
      readonly kind: 'purpose-setting';
      readonly at: string;
      readonly purposeId: PurposeId;
      readonly setting: 'fpir' | 'confirmations';
      readonly from: number;
      readonly to: number;
    }
  | {
      readonly kind: 'suppression-added';
      readonly at: string;
      readonly suppressionId: string;
      readonly model: string;
      readonly reason: string;
      /** The keystore slot of the key `sealed` is under, and its owner. */
      readonly key: { readonly owner: string; readonly slot: number };
      /** The entry's template, AES-256-GCM under that key (base64). */
      readonly sealed: string;
    };

type Marker = {
  readonly kind: 'cancelled' | 'confirmed';
  readonly at: string;
  readonly id: string;
  readonly pending?: never;
};

/** Whether the change narrows processing (less matching, fewer templates): see `journaled`. */
function narrows(e: JournalChange): boolean {
  if (e.kind === 'restriction') return e.restricted;
  if (e.kind === 'purpose-status') return e.suspended;
  // Fewer false matches let through (a lower FPIR), or more people to confirm each match.
  if (e.kind === 'purpose-setting') return e.setting === 'fpir' ? e.to < e.from : e.to > e.from;
  return true;
}

export const JOURNAL_FILE = join('keys', 'restore-journal.jsonl');

/** The keystore key a do-not-enroll entry's line is sealed under: one of the entry's own. */
export const suppressionKeyOwner = (suppressionId: string) => `suppression:${suppressionId}`;

export class RestoreJournal {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, JOURNAL_FILE);
  }

  /**
   * Runs a change whose transaction calls `note` with its entry, as the last step before commit; the
   * line is written there, and confirmed after the commit if it widens processing, cancelled if the
   * transaction fails and it narrows it (the header says why), unless `reflected` finds the change
   * in the database after all (journal-reflected.ts, one test for every kind): PostgreSQL can commit
   * a transaction its client sees fail (the connection lost at COMMIT), and a line cancelled then
   * would let a restore forget a change made.
   */
  async journaled<T>(
    run: (note: (e: JournalChange) => Promise<void>) => Promise<T>,
    reflected: (e: JournalChange) => Promise<boolean>,
  ): Promise<T> {
    let noted: { id: string; narrowing: boolean; change: JournalChange } | undefined;
    const note = async (e: JournalChange) => {
      const id = randomBytes(8).toString('hex');
      const narrowing = narrows(e);
      await this.append(narrowing ? { ...e, id } : { ...e, id, pending: true });
      noted = { id, narrowing, change: e };
    };
    const marker = (kind: Marker['kind'], id: string) => this.append({ kind, at: new Date().toISOString(), id });
    let result: T;
    try {
      result = await run(note);
    } catch (err) {
      // Left uncancelled (the disk failing too, or the check whether it committed), a restore would apply a change that was asked for and failed: narrower, never wider.
      if (noted?.narrowing && !(await reflected(noted.change).catch(() => true)))
        await marker('cancelled', noted.id).catch(() => undefined);
      throw err;
    }
    if (noted && !noted.narrowing) await marker('confirmed', noted.id);
    return result;
  }

  /** Appends one entry and syncs it (one write of one line, at most a few kB, in append mode: appends from several processes do not interleave); a line cut short fails the change. */
  private async append(entry: JournalEntry | Marker): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const fh = await open(this.path, 'a', 0o600);
    try {
      // Every line starts a line of its own: after a crash or a short write mid-append the last line has
      // no end, and this entry must not join it (and be lost with it). Looking at the last byte first
      // would race another process's short write landing between the look and this write.
      const line = Buffer.from(`\n${JSON.stringify(entry)}\n`);
      // A write may take less than it was given (a full disk). The rest is not written after it:
      // another process's line could land in between and be torn with this one. The change fails
      // instead, and the next append ends the torn line.
      const { bytesWritten } = await fh.write(line, 0, line.length);
      if (bytesWritten !== line.length)
        throw new Error(`The restore journal took ${bytesWritten} of a line's ${line.length} bytes.`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /**
   * The keystore keys the entries that count seal under: owner to slot. Only an entry's own key: a
   * line naming another owner's (forged, damaged) must not keep that key, a person's say, from the sweep.
   */
  keysNeeded(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.read())
      if (e.kind === 'suppression-added' && e.key?.owner === suppressionKeyOwner(e.suppressionId))
        out.set(e.key.owner, e.key.slot);
    return out;
  }

  /** Every entry that counts (not cancelled; a widening one confirmed), in line order; a line cut short by a crash is skipped. */
  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    const out: (JournalEntry | Marker)[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry | Marker);
      } catch {
        // A torn last line: a narrowing change that did not commit, or a confirmation lost; the header says why either is safe.
      }
    }
    const marked = (kind: Marker['kind']) => new Set(out.flatMap((e) => (e.kind === kind ? [e.id] : [])));
    const [cancelled, confirmed] = [marked('cancelled'), marked('confirmed')];
    return out
      .filter(
        (e): e is JournalEntry =>
          e.kind !== 'cancelled' &&
          e.kind !== 'confirmed' &&
          !(e.id && cancelled.has(e.id)) &&
          !(e.pending && !(e.id && confirmed.has(e.id))),
      )
      .map(({ pending: _confirmed, ...e }) => e as JournalEntry);
  }
}

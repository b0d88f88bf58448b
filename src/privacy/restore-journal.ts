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
 * restored database does not reflect (src/ops/restore-replay.ts). Ids and times only: never a template,
 * a photo or a contact.
 *
 * When a line is written decides what a crash between it and the commit does (`journaled`): a change
 * that narrows processing is written before its transaction commits, so a crash leaves the line and a
 * later restore applies the change that was asked for; one that widens it (a restriction lifted, a
 * purpose resumed) is written after, so a crash loses the line and a restore keeps the narrower state.
 * Either way a crash never makes a restored gallery match more than was asked. A narrowing line whose
 * transaction then fails is cancelled by a later line.
 */
export type JournalEntry = Change & { readonly id?: string };

export type JournalChange = Change;

type Change =
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
    };

type Cancelled = { readonly kind: 'cancelled'; readonly at: string; readonly id: string };

/** Whether the change narrows processing (less matching, fewer templates): see `journaled`. */
function narrows(e: Change): boolean {
  if (e.kind === 'restriction') return e.restricted;
  if (e.kind === 'purpose-status') return e.suspended;
  return true;
}

export const JOURNAL_FILE = join('keys', 'restore-journal.jsonl');

export class RestoreJournal {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, JOURNAL_FILE);
  }

  /**
   * Runs a change whose transaction calls `note` with its entry, as the last step before commit, and
   * writes the entry in the order the header says: inside the transaction if it narrows processing
   * (cancelled if the transaction then fails), after the commit if it widens it.
   */
  async journaled<T>(run: (note: (e: Change) => Promise<void>) => Promise<T>): Promise<T> {
    let early: string | undefined;
    let late: Change | undefined;
    const note = async (e: Change) => {
      if (!narrows(e)) return void (late = e);
      const id = randomBytes(8).toString('hex');
      await this.append({ ...e, id });
      early = id;
    };
    let result: T;
    try {
      result = await run(note);
    } catch (err) {
      // Left uncancelled (the disk failing too), a restore would apply a change that was asked for and failed: narrower, never wider.
      if (early)
        await this.append({ kind: 'cancelled', at: new Date().toISOString(), id: early }).catch(() => undefined);
      throw err;
    }
    if (late) await this.append(late);
    return result;
  }

  /** Appends one entry and syncs it (one write of a short line: appends from several processes do not interleave). */
  private async append(entry: JournalEntry | Cancelled): Promise<void> {
    await mkdir(dirname(this.path), { recursive: true, mode: 0o700 });
    const fh = await open(this.path, 'a+', 0o600);
    try {
      // After a crash mid-append the last line has no end: this entry must not join it (and be lost with it).
      const { size } = await fh.stat();
      const last = Buffer.alloc(1);
      const torn = size > 0 && (await fh.read(last, 0, 1, size - 1)).bytesRead === 1 && last[0] !== 0x0a;
      await fh.write(`${torn ? '\n' : ''}${JSON.stringify(entry)}\n`);
      await fh.sync();
    } finally {
      await fh.close();
    }
  }

  /** Every entry not cancelled, oldest first; a line cut short by a crash is skipped. */
  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    const out: (JournalEntry | Cancelled)[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry | Cancelled);
      } catch {
        // A torn last line: its change committed (a widening one) or not (a narrowing one); the header says why either is safe.
      }
    }
    const cancelled = new Set(out.flatMap((e) => (e.kind === 'cancelled' ? [e.id] : [])));
    return out.filter((e): e is JournalEntry => e.kind !== 'cancelled' && !(e.id && cancelled.has(e.id)));
  }
}

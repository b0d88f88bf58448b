import { existsSync, readFileSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ConsentId, PurposeId, SubjectId, TemplateId } from '../ids.js';

/**
 * Changes a restored backup must not undo, kept beside the keystore (`keys/`, never in a backup).
 *
 * The keystore's tombstones bring erasures back after a restore; nothing brought back a consent
 * withdrawn, a purpose's data removed, a restriction set or a purpose suspended since the backup, so the restored
 * database made those people matchable again. One line per change, appended and synced after its
 * transaction commits; `veil restore` replays the lines the restored database does not reflect
 * (src/ops/restore-replay.ts). Ids and times only: never a template, a photo or a contact.
 */
export type JournalEntry =
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

export const JOURNAL_FILE = join('keys', 'restore-journal.jsonl');

export class RestoreJournal {
  private readonly path: string;

  constructor(dataDir: string) {
    this.path = join(dataDir, JOURNAL_FILE);
  }

  /** Appends one entry and syncs it (one write of a short line: appends from several processes do not interleave). */
  async append(entry: JournalEntry): Promise<void> {
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

  /** Every entry, oldest first; a line cut short by a crash is skipped. */
  read(): JournalEntry[] {
    if (!existsSync(this.path)) return [];
    const out: JournalEntry[] = [];
    for (const line of readFileSync(this.path, 'utf8').split('\n')) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as JournalEntry);
      } catch {
        // A torn last line: the change it stood for committed, but its entry never fully reached the disk.
      }
    }
    return out;
  }
}

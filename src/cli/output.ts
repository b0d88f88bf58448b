import { isVeilError } from '../errors.js';
import { scrubbed } from '../privacy/told.js';

/** A usage mistake: exit 2 with the command's help. */
export class UsageError extends Error {}

export type OutputMode = 'human' | 'json' | 'jsonl';

export interface Io {
  out(text: string): void;
  err(text: string): void;
  readonly stderrIsTty: boolean;
}

export const processIo: Io = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  get stderrIsTty() {
    return Boolean(process.stderr.isTTY);
  },
};

const FILE_ERRORS: Record<string, string> = {
  ENOENT: 'NOT_FOUND: no such file or directory',
  ENOTDIR: 'NOT_FOUND: a part of the path is not a directory',
  EISDIR: 'INVALID_INPUT: a directory, not a file',
  EACCES: 'INVALID_INPUT: permission denied',
};

/** Maps any thrown value to the CLI's exit code and a one-line message, never a stack trace for user errors. */
export function reportError(e: unknown, io: Io): number {
  if (e instanceof UsageError) {
    io.err(`veil: ${e.message}\n`);
    return 2;
  }
  if (isVeilError(e)) {
    io.err(`veil: ${e.code}: ${e.message}\n`);
    return 1;
  }
  // A file named on the command line (--out, --pubkey, --file...) that cannot be read or written.
  const f = e as NodeJS.ErrnoException;
  if (f?.path && FILE_ERRORS[f.code ?? '']) {
    const [code, why] = FILE_ERRORS[f.code!]!.split(': ');
    io.err(`veil: ${code}: ${f.path}: ${why}\n`);
    return 1;
  }
  io.err(`veil: INTERNAL: ${scrubbed(e instanceof Error ? e.message : String(e))}\n`);
  return 1;
}

/** A progress bar on stderr, drawn only on a TTY so logs and pipes stay clean. */
export class Progress {
  private done = 0;
  private last = 0;
  constructor(
    private readonly io: Io,
    private readonly total: number,
    private readonly label: string,
  ) {}

  tick(): void {
    this.done++;
    if (!this.io.stderrIsTty) return;
    const now = Date.now();
    if (now - this.last < 100 && this.done < this.total) return;
    this.last = now;
    const width = 30;
    const filled = Math.round((this.done / Math.max(1, this.total)) * width);
    this.io.err(`\r${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.done}/${this.total}`);
    if (this.done >= this.total) this.io.err('\n');
  }
}

import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fsyncSync, linkSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { open as openFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KEYSTORE_FILE } from './keys.js';
import { encodeHeader, parseHeader, parseSlot, SLOT_BYTES, type KeystoreHeader, type Slot } from './keystore-format.js';
import { secretDir, syncDir } from './secret-files.js';

/** Up to this many slots are read synchronously (see readFew). */
const FEW = 64;

/**
 * The keystore file: fixed-size slots of wrapped data keys (layout in keystore-format.ts), in the
 * data directory but outside the database, so destroying a key is overwriting its 128 bytes in
 * place, which no database can promise (freed pages, WAL, dead PostgreSQL row versions, backups).
 *
 * Every operation opens the file, works by position and closes it: several processes (API servers
 * sharing the data volume) write different slots of one file, each sees the others' slots on its
 * next read (close-to-open, as network file systems promise), and a rotation that renamed a new
 * file into place is picked up by the next call. A write is on disk (fdatasync) before it returns,
 * so a slot always exists before the transaction naming it commits.
 */
export class Keystore {
  readonly path: string;

  constructor(
    readonly dataDir: string,
    readonly header: KeystoreHeader,
  ) {
    this.path = join(dataDir, KEYSTORE_FILE);
  }

  static pathIn(dataDir: string): string {
    return join(dataDir, KEYSTORE_FILE);
  }

  static exists(dataDir: string): boolean {
    return existsSync(Keystore.pathIn(dataDir));
  }

  static async readHeader(dataDir: string): Promise<KeystoreHeader> {
    const path = Keystore.pathIn(dataDir);
    const fh = await openFile(path, 'r');
    try {
      const b = Buffer.alloc(SLOT_BYTES);
      await fh.read(b, 0, SLOT_BYTES, 0);
      return parseHeader(b, path);
    } finally {
      await fh.close();
    }
  }

  /**
   * Makes a keystore holding only its header, unless one exists: the header is written and synced
   * under a temporary name and linked into place, which fails if another process got there first, so
   * no process ever reads half a header. Returns the header of the file that is there.
   */
  static async create(dataDir: string, header: KeystoreHeader): Promise<KeystoreHeader> {
    const path = Keystore.pathIn(dataDir);
    secretDir(dirname(path));
    const tmp = `${path}.new-${process.pid}-${randomBytes(4).toString('hex')}`;
    const fd = openSync(tmp, 'wx', 0o600);
    try {
      writeSync(fd, encodeHeader(header));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(tmp, path);
      syncDir(dirname(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    } finally {
      rmSync(tmp, { force: true });
    }
    return Keystore.readHeader(dataDir);
  }

  private async withFile<T>(mode: 'r' | 'r+', fn: (fh: FileHandle) => Promise<T>): Promise<T> {
    const fh = await openFile(this.path, mode);
    try {
      return await fn(fh);
    } finally {
      await fh.close();
    }
  }

  /** One slot; past the end of the file it reads as empty. */
  async read(slot: number): Promise<Slot> {
    return this.withFile('r', async (fh) => {
      const b = Buffer.alloc(SLOT_BYTES);
      const { bytesRead } = await fh.read(b, 0, SLOT_BYTES, slot * SLOT_BYTES);
      return parseSlot(b.subarray(0, bytesRead), slot);
    });
  }

  /**
   * Several slots. A few are read one by one; when they are a good part of the file (the index
   * rebuild at start reads every key), the whole file is read at once: one large read is far faster
   * than one system call per subject.
   */
  async readMany(slots: readonly number[]): Promise<Map<number, Slot>> {
    const out = new Map<number, Slot>();
    if (!slots.length) return out;
    if (slots.length <= FEW) return this.readFew(slots);
    return this.withFile('r', async (fh) => {
      const size = (await fh.stat()).size;
      if (slots.length * SLOT_BYTES * 16 >= size) {
        const all = await readWhole(fh, size);
        for (const s of slots) out.set(s, parseSlot(all.subarray(s * SLOT_BYTES, (s + 1) * SLOT_BYTES), s));
        return out;
      }
      const b = Buffer.alloc(SLOT_BYTES);
      for (const s of slots) {
        const { bytesRead } = await fh.read(b, 0, SLOT_BYTES, s * SLOT_BYTES);
        out.set(s, parseSlot(Buffer.from(b.subarray(0, bytesRead)), s));
      }
      return out;
    });
  }

  /**
   * A few slots with synchronous reads (the quantised index's exact re-score reads the keys of about
   * twenty candidates per search): one open and a pread per slot take microseconds, where each
   * asynchronous call waits for the thread pool (38 ms median for 20 keys on a loaded machine).
   */
  private readFew(slots: readonly number[]): Map<number, Slot> {
    const out = new Map<number, Slot>();
    const fd = openSync(this.path, 'r');
    try {
      for (const s of slots) {
        const b = Buffer.alloc(SLOT_BYTES);
        const n = readSync(fd, b, 0, SLOT_BYTES, s * SLOT_BYTES);
        out.set(s, parseSlot(b.subarray(0, n), s));
      }
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** Every slot, in one read (restore, rotation, backup). */
  async readAll(): Promise<Slot[]> {
    return this.readFrom(1);
  }

  /** The slots from `first` to the end of the file, in one read (the start-up sweep reads only the new ones). */
  async readFrom(first: number): Promise<Slot[]> {
    return this.withFile('r', async (fh) => {
      const size = (await fh.stat()).size;
      const from = Math.max(1, first) * SLOT_BYTES;
      if (from >= size) return [];
      const b = await readWhole(fh, size, from);
      const out: Slot[] = [];
      for (let o = 0, s = Math.max(1, first); o + SLOT_BYTES <= b.length; o += SLOT_BYTES, s++)
        out.push(parseSlot(b.subarray(o, o + SLOT_BYTES), s));
      return out;
    });
  }

  /** The highest slot number the file reaches (0: only the header), from its size. */
  async highestSlot(): Promise<number> {
    return this.withFile('r', async (fh) => Math.max(0, Math.floor((await fh.stat()).size / SLOT_BYTES) - 1));
  }

  /** The whole file as it is now, in one read (the index rebuild unwraps nearly every key). */
  async image(): Promise<Buffer> {
    return this.withFile('r', async (fh) => readWhole(fh, (await fh.stat()).size));
  }

  /** Writes whole slots in place, then fdatasync once: on disk when this returns. */
  async write(slots: readonly { slot: number; bytes: Buffer }[]): Promise<void> {
    if (!slots.length) return;
    await this.withFile('r+', async (fh) => {
      for (const s of slots) {
        if (s.slot < 1 || s.bytes.length !== SLOT_BYTES) throw new Error(`bad keystore write at slot ${s.slot}`);
        await fh.write(s.bytes, 0, SLOT_BYTES, s.slot * SLOT_BYTES);
      }
      await fh.datasync();
    });
  }
}

/** The file's bytes from `from` (default 0) to `size`. */
async function readWhole(fh: FileHandle, size: number, from = 0): Promise<Buffer> {
  const all = Buffer.alloc(size - from);
  for (let at = 0; at < all.length;) {
    const { bytesRead } = await fh.read(all, at, all.length - at, from + at);
    if (!bytesRead) return all.subarray(0, at);
    at += bytesRead;
  }
  return all;
}

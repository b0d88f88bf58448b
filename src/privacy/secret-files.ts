import {
  closeSync,
  existsSync,
  fdatasyncSync,
  fstatSync,
  fsyncSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { promises as fsp } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Files that hold key material: created 0600 in 0700 directories, made durable before anyone relies
 * on them, and overwritten before they are let go, so the old bytes do not linger in the file system's
 * view of the data directory (what is below it, SSD cells and snapshots, docs/security.md covers).
 */

export function secretDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
}

/** fsync of a directory makes a rename or a new name in it durable. */
export function syncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Writes `path` whole (a temporary name, fsync, rename): a crash leaves the old file or the new one. */
export function writeSecretFile(path: string, content: Buffer | string): void {
  secretDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    writeSync(fd, typeof content === 'string' ? Buffer.from(content) : content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  syncDir(dirname(path));
}

/**
 * `writeSecretFile` without holding the event loop while the bytes are written and synced, synced a
 * few MiB at a time: an fsync elsewhere (the keystore's, in an erasure) can have to wait for every
 * dirty page of the file system's journal, so few are left dirty at any time. `between` runs before
 * each step (a snapshot write waits there for changes in flight, so none waits behind its syncs).
 */
export async function writeSecretFileAsync(
  path: string,
  content: Buffer,
  step = 1 << 22,
  between?: () => Promise<void>,
): Promise<void> {
  secretDir(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  const fh = await fsp.open(tmp, 'w', 0o600);
  try {
    for (let at = 0; at < content.length;) {
      await between?.();
      const end = Math.min(at + step, content.length);
      while (at < end) at += (await fh.write(content, at, end - at, at)).bytesWritten;
      await fh.datasync();
    }
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fsp.rename(tmp, path);
  syncDir(dirname(path));
}

/** Overwrites a file's bytes with zeros in place and syncs them (the inode keeps its blocks). */
export function zeroFd(fd: number): void {
  const size = fstatSync(fd).size;
  const zeros = Buffer.alloc(Math.min(size, 1 << 20));
  for (let at = 0; at < size; at += zeros.length) writeSync(fd, zeros, 0, Math.min(zeros.length, size - at), at);
  fdatasyncSync(fd);
}

/**
 * Puts `next` in the place of `path` and then zeroes the file that was there: the old inode is
 * held open across the rename, so its blocks are overwritten even though no name points at it any
 * more. Until the rename the old file is intact; after it, the new one is in place.
 */
export function replaceAndScrub(next: string, path: string): void {
  const old = existsSync(path) ? openSync(path, 'r+') : null;
  try {
    renameSync(next, path);
    syncDir(dirname(path));
    if (old !== null) zeroFd(old);
  } finally {
    if (old !== null) closeSync(old);
  }
}

/** Zeroes a file, then removes it. */
export function scrubFile(path: string): void {
  if (!existsSync(path)) return;
  const fd = openSync(path, 'r+');
  try {
    zeroFd(fd);
  } finally {
    closeSync(fd);
  }
  // Removed only once zeroed: a crash in between leaves a file of zeros, never the secret.
  rmSync(path, { force: true });
}

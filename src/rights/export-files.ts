import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writevSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from '../store/store.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { openSealedFile, readSealedFile, SegmentSealer } from '../privacy/sealed-segments.js';
import { artifactRepository } from './artifact.repository.js';

/** Receives the file's bytes as they are made; nothing is held whole in memory. */
export type FileSink = (chunk: Uint8Array) => void;

/**
 * The files rights requests produce (access ZIPs, portability JSON): sealed on disk as they are
 * written (segment by segment), registered as derived from their subjects so an erasure finds and
 * destroys them, read back in one place.
 */
export class ExportFiles {
  constructor(private readonly deps: { store: Store; key: Buffer; dataDir: string }) {}

  write(kind: string, bytes: Buffer, subjectIds: readonly string[], requestId: string, now: string): Promise<string> {
    return this.writeStream(kind, subjectIds, requestId, now, async (sink) => sink(bytes));
  }

  /** `produce` writes the file through the sink; it is sealed and on disk, a segment at a time, as it goes. */
  async writeStream(
    kind: string,
    subjectIds: readonly string[],
    requestId: string,
    now: string,
    produce: (sink: FileSink) => Promise<void>,
  ): Promise<string> {
    const id = newId.other('art');
    const rel = join('exports', `${requestId}.${id}.sealed`);
    const abs = join(this.deps.dataDir, rel);
    mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
    const fd = openSync(abs, 'w', 0o600);
    try {
      // One write per sealed segment (about 1 MiB), whatever the number of pieces it came in.
      const sealer = new SegmentSealer(this.deps.key, `veil.export:${id}`, (pieces) => {
        writevSync(fd, pieces);
      });
      await produce((chunk) => sealer.push(chunk));
      sealer.end();
    } catch (e) {
      closeSync(fd);
      rmSync(abs, { force: true });
      throw e;
    }
    closeSync(fd);
    const expiresAt = new Date(new Date(now).getTime() + 30 * 86_400_000).toISOString();
    // One file per request: a run again (a review decided, the person asking twice) replaces the last.
    const earlier = await artifactRepository.ofRequest(this.deps.store.db, requestId);
    await this.deps.store.transaction(async (tx) => {
      await artifactRepository.insert(tx, { id, kind, path: rel, subjectIds, createdAt: now, expiresAt });
      await artifactRepository.deleteMany(
        tx,
        earlier.map((a) => a.id),
      );
    });
    this.remove(earlier);
    return id;
  }

  /** Files past the 30 days they are kept; returns how many went. */
  async expire(now: string): Promise<number> {
    const old = await artifactRepository.expiredBefore(this.deps.store.db, now);
    await artifactRepository.deleteMany(
      this.deps.store.db,
      old.map((a) => a.id),
    );
    this.remove(old);
    return old.length;
  }

  private remove(files: readonly { path: string | null }[]): void {
    for (const f of files) if (f.path) rmSync(join(this.deps.dataDir, f.path), { force: true });
  }

  private async artifact(outcome: Record<string, unknown> | null) {
    const artifactId = outcome?.['artifactId'];
    if (typeof artifactId !== 'string') throw new VeilError('NOT_FOUND', 'This request has no file to download.');
    const a = await artifactRepository.get(this.deps.store.db, artifactId);
    if (!a?.path) throw new VeilError('NOT_FOUND', 'The file has expired or was erased.');
    return { id: a.id, kind: a.kind, abs: join(this.deps.dataDir, a.path) };
  }

  /** The file an outcome names, decrypted. */
  async read(outcome: Record<string, unknown> | null): Promise<{ bytes: Buffer; kind: string }> {
    const a = await this.artifact(outcome);
    return { bytes: openSealedFile(this.deps.key, readFileSync(a.abs), `veil.export:${a.id}`), kind: a.kind };
  }

  /**
   * The same, decrypted a segment at a time as it is read (an HTTP download of a large ZIP). The first
   * segment is read and authenticated before this returns, so a missing or damaged file is an error
   * the caller can still answer, not a response cut after its headers.
   */
  async stream(outcome: Record<string, unknown> | null): Promise<{ chunks: AsyncIterable<Buffer>; kind: string }> {
    const a = await this.artifact(outcome);
    const segments = readSealedFile(this.deps.key, a.abs, `veil.export:${a.id}`);
    const first = await segments.next();
    return {
      kind: a.kind,
      chunks: (async function* () {
        if (first.done) return;
        yield first.value;
        yield* segments;
      })(),
    };
  }
}

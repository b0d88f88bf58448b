import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Store } from '../store/store.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { open, seal } from '../privacy/keys.js';
import { artifactRepository } from './artifact.repository.js';

/**
 * The files rights requests produce (access ZIPs, portability JSON): sealed on disk, registered as
 * derived from their subjects so an erasure finds and destroys them, read back in one place.
 */
export class ExportFiles {
  constructor(private readonly deps: { store: Store; key: Buffer; dataDir: string }) {}

  async write(
    kind: string,
    bytes: Buffer,
    subjectIds: readonly string[],
    requestId: string,
    now: string,
  ): Promise<string> {
    const id = newId.other('art');
    const rel = join('exports', `${requestId}.${id}.sealed`);
    const abs = join(this.deps.dataDir, rel);
    mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
    writeFileSync(abs, seal(this.deps.key, bytes, `veil.export:${id}`), { mode: 0o600 });
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

  /** The file an outcome names, decrypted. */
  async read(outcome: Record<string, unknown> | null): Promise<{ bytes: Buffer; kind: string }> {
    const artifactId = outcome?.['artifactId'];
    if (typeof artifactId !== 'string') throw new VeilError('NOT_FOUND', 'This request has no file to download.');
    const a = await artifactRepository.get(this.deps.store.db, artifactId);
    if (!a?.path) throw new VeilError('NOT_FOUND', 'The file has expired or was erased.');
    return {
      bytes: open(this.deps.key, readFileSync(join(this.deps.dataDir, a.path)), `veil.export:${a.id}`),
      kind: a.kind,
    };
  }
}

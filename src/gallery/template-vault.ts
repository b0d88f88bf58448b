import { mkdirSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Executor } from '../store/store.js';
import type { PurposeId, SubjectId, TemplateId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { bytesVector, open, seal, SEAL_OVERHEAD, vectorBytes } from '../privacy/keys.js';
import { subjectRepository, type TemplateRow } from './subject.repository.js';
import type { TemplateVector } from '../vector/gallery-index.js';
import { matchableRepository, type MatchableRef, type MatchableRow } from '../vector/matchable.repository.js';
import { DecryptPool, type SealedRow } from './template-decrypt.js';

const aad = (kind: string, id: string, subjectId: string, purposeId: string) =>
  `veil.${kind}:${id}:${subjectId}:${purposeId}`;
/** What a template is sealed with besides its key (the start-up decryption workers open it too). */
export const templateAad = (id: string, subjectId: string, purposeId: string) =>
  aad('template', id, subjectId, purposeId);

/** From this many matchable templates on (the rebuild's first page), start-up decrypts on worker threads. */
export const WORKERS_FROM = 4096;

/**
 * Where templates and kept enrollment photos are sealed and unsealed. Everything here is encrypted
 * under the subject's data key; once the key is destroyed, nothing here can be read again.
 *
 * The one place that decides which templates may be compared with a probe: every read for matching
 * (the index rebuild and feed, the quantised index's exact re-score, 1:1 verification, the rights
 * face finder) comes through `matchable()`, `matchablePages()`, `vectors()` or `comparable()`, which
 * return only templates of `model`, the active embedder. A template of another model id is another
 * vector space: it is never compared, only re-embedded or re-enrolled (`ModelSwitch`,
 * src/gallery/model-switch.service.ts).
 */
export class TemplateVault {
  /** The active embedder's id: the only model whose templates are compared. */
  readonly model: string;

  constructor(private readonly deps: { keyring: KeyRing; dataDir: string; model: string }) {
    this.model = deps.model;
  }

  sealTemplate(key: Buffer, id: TemplateId, subjectId: SubjectId, purposeId: PurposeId, v: Float32Array): Buffer {
    return seal(key, vectorBytes(v), aad('template', id, subjectId, purposeId));
  }

  openTemplate(key: Buffer, t: Pick<TemplateRow, 'id' | 'subjectId' | 'purposeId' | 'sealed'>): Float32Array {
    return bytesVector(open(key, t.sealed, aad('template', t.id, t.subjectId, t.purposeId)));
  }

  /** A template opened as the index holds it. */
  private indexed(key: Buffer, t: Pick<TemplateRow, 'id' | 'subjectId' | 'purposeId' | 'sealed'>): TemplateVector {
    return { templateId: t.id, subjectId: t.subjectId, purposeId: t.purposeId, vector: this.openTemplate(key, t) };
  }

  /** A contact address, sealed under the subject's key: erased with the key. */
  sealContact(key: Buffer, subjectId: SubjectId, email: string): Buffer {
    return seal(key, Buffer.from(email.trim()), `veil.contact:${subjectId}`);
  }

  openContact(key: Buffer, subjectId: SubjectId, sealed: Buffer): string {
    return open(key, sealed, `veil.contact:${subjectId}`).toString('utf8');
  }

  /** A sighting's face crop (a JPEG), sealed under the subject's key: unreadable once the key is shredded. */
  sealCrop(key: Buffer, faceId: string, subjectId: SubjectId, jpeg: Uint8Array): Buffer {
    return seal(key, jpeg, `veil.crop:${faceId}:${subjectId}`);
  }

  openCrop(key: Buffer, faceId: string, subjectId: SubjectId, sealed: Uint8Array): Buffer {
    return open(key, sealed, `veil.crop:${faceId}:${subjectId}`);
  }

  /** Writes a kept enrollment photo sealed under the subject key; returns its path relative to the data dir. */
  writeImage(key: Buffer, id: TemplateId, subjectId: SubjectId, purposeId: PurposeId, bytes: Uint8Array): string {
    const rel = join('images', subjectId, `${id}.sealed`);
    const abs = join(this.deps.dataDir, rel);
    mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
    writeFileSync(abs, seal(key, bytes, aad('image', id, subjectId, purposeId)), { mode: 0o600 });
    return rel;
  }

  readImage(key: Buffer, t: Pick<TemplateRow, 'id' | 'subjectId' | 'purposeId' | 'imagePath'>): Buffer | null {
    if (!t.imagePath) return null;
    const abs = join(this.deps.dataDir, t.imagePath);
    if (!existsSync(abs)) return null;
    return open(key, readFileSync(abs), aad('image', t.id, t.subjectId, t.purposeId));
  }

  deleteFiles(paths: readonly (string | null)[]): void {
    for (const p of paths) if (p) rmSync(join(this.deps.dataDir, p), { force: true });
  }

  subjectDir(subjectId: SubjectId): string {
    return join(this.deps.dataDir, 'images', subjectId);
  }

  /** Decrypts every template that may match now (of one subject or purpose, or all: the index rebuild). */
  async matchable(
    ex: Executor,
    where: { subjectId?: SubjectId; purposeId?: PurposeId } = {},
  ): Promise<TemplateVector[]> {
    if (!where.subjectId && !where.purposeId) {
      const out: TemplateVector[] = [];
      for await (const page of this.matchablePages(ex)) for (const t of page) out.push(t);
      return out;
    }
    const rows = await subjectRepository.templates(ex, { ...where, matchableOnly: true, model: this.model });
    const keys = await this.deps.keyring.getMany(
      ex,
      rows.map((t) => t.subjectId),
    );
    const out: TemplateVector[] = [];
    for (const t of rows) {
      // A destroyed key means an erased subject whose rows are going: nothing to match.
      const key = keys.get(t.subjectId);
      if (key) out.push(this.indexed(key, t));
    }
    return out;
  }

  /**
   * A subject's templates of the active model in any state (a restricted person's own rights request
   * looks for them too), decrypted with the key the caller unwrapped.
   */
  async comparable(ex: Executor, subjectId: SubjectId, key: Buffer): Promise<Float32Array[]> {
    const rows = await subjectRepository.templates(ex, { subjectId, model: this.model });
    return rows.map((t) => this.openTemplate(key, t));
  }

  /**
   * The exact float templates with these ids (the quantised index re-scores its candidates on them);
   * one whose row or key is gone (erased meanwhile) is absent.
   */
  async vectors(ex: Executor, ids: readonly string[]): Promise<Map<string, Float32Array>> {
    const out = new Map<string, Float32Array>();
    if (!ids.length) return out;
    const rows = await matchableRepository.byIds(ex, ids, this.model);
    const keys = await this.deps.keyring.getMany(
      ex,
      rows.map((r) => r.subjectId),
    );
    for (const t of rows) {
      const key = keys.get(t.subjectId);
      if (key) out.set(t.id, this.openTemplate(key, t));
    }
    return out;
  }

  /**
   * Every template that may match now, decrypted, a page at a time: pages in template id order with
   * only the columns the index needs, and the keys unwrapped from one read of the keystore instead of
   * a lookup per subject. A destroyed key means an erased subject whose rows are going: skipped.
   */
  async *matchablePages(ex: Executor, pageSize = 20_000, workersFrom = WORKERS_FROM): AsyncGenerator<TemplateVector[]> {
    let rows = await matchableRepository.page(ex, '', pageSize, this.model);
    if (!rows.length) return;
    if (rows.length < workersFrom) {
      const keyOf = await this.deps.keyring.bulkReader();
      let last: { subjectId: SubjectId; key: Buffer | null } | undefined;
      for (;;) {
        const out: TemplateVector[] = [];
        for (const t of rows) {
          if (last?.subjectId !== t.subjectId) last = { subjectId: t.subjectId, key: await keyOf(t.subjectId, t.slot) };
          if (last.key)
            out.push({
              templateId: t.id,
              subjectId: t.subjectId,
              purposeId: t.purposeId,
              vector: this.openTemplate(last.key, t),
            });
        }
        yield out;
        if (rows.length < pageSize) return;
        rows = await matchableRepository.page(ex, rows[rows.length - 1]!.id, pageSize, this.model);
        if (!rows.length) return;
      }
    }
    // Many: the workers decrypt page i while this thread reads page i + 1, and page i + 1 while the
    // caller adds page i to its index.
    const wrappedOf = await this.deps.keyring.bulkWrapped();
    const pool = new DecryptPool(this.deps.keyring.master);
    try {
      const start = (page: readonly MatchableRow[]) => {
        const p = this.decryptOn(pool, page, wrappedOf);
        // Awaited below; this only keeps a failure while the caller works from being reported unhandled.
        p.catch(() => undefined);
        return p;
      };
      let job = start(rows);
      for (;;) {
        const next =
          rows.length < pageSize
            ? []
            : await matchableRepository.page(ex, rows[rows.length - 1]!.id, pageSize, this.model);
        const done = await job;
        if (next.length) job = start(next);
        yield done;
        if (!next.length) return;
        rows = next;
      }
    } finally {
      await pool.close();
    }
  }

  /**
   * The templates of rows known to be matchable (start-up from a snapshot: the rows it did not hold),
   * read and decrypted a page at a time, on worker threads when many. A row gone meanwhile is absent.
   */
  async *decryptPages(
    ex: Executor,
    refs: readonly MatchableRef[],
    pageSize = 20_000,
    workersFrom = WORKERS_FROM,
  ): AsyncGenerator<TemplateVector[]> {
    if (!refs.length) return;
    const wrappedOf = await this.deps.keyring.bulkWrapped();
    const pool = refs.length >= workersFrom ? new DecryptPool(this.deps.keyring.master) : null;
    try {
      for (let i = 0; i < refs.length; i += pageSize) {
        const page = refs.slice(i, i + pageSize);
        const sealed = new Map(
          (
            await matchableRepository.byIds(
              ex,
              page.map((r) => r.id),
              this.model,
            )
          ).map((r) => [r.id, r.sealed]),
        );
        const rows = page.flatMap((r) => (sealed.has(r.id) ? [{ ...r, sealed: sealed.get(r.id)! }] : []));
        if (!rows.length) continue;
        if (pool) {
          yield await this.decryptOn(pool, rows, wrappedOf);
          continue;
        }
        const out: TemplateVector[] = [];
        for (const t of rows) {
          const wrapped = await wrappedOf(t.subjectId, t.slot);
          const key = wrapped && this.deps.keyring.master.unwrapSlot(wrapped, t.subjectId, t.slot);
          if (key) out.push(this.indexed(key, t));
        }
        yield out;
      }
    } finally {
      await pool?.close();
    }
  }

  private async decryptOn(
    pool: DecryptPool,
    rows: readonly MatchableRow[],
    wrappedOf: (owner: string, slot: number) => Promise<Buffer | null>,
  ): Promise<TemplateVector[]> {
    const sealed: SealedRow[] = [];
    let last: { subjectId: string; wrapped: Buffer | null } | undefined;
    for (const t of rows) {
      if (last?.subjectId !== t.subjectId)
        last = { subjectId: t.subjectId, wrapped: await wrappedOf(t.subjectId, t.slot) };
      sealed.push({ ...t, wrapped: last.wrapped });
    }
    const dims = (rows[0]!.sealed.length - SEAL_OVERHEAD) / 4;
    const { vectors, ok } = await pool.decrypt(sealed, dims);
    const out: TemplateVector[] = [];
    rows.forEach((t, i) => {
      if (ok[i])
        out.push({
          templateId: t.id,
          subjectId: t.subjectId,
          purposeId: t.purposeId,
          vector: vectors.subarray(i * dims, (i + 1) * dims),
        });
    });
    return out;
  }
}

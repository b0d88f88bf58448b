import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../auth/actor.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import { newId, type MediaId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { open, seal, type MasterKey } from '../privacy/keys.js';
import type { AccessPolicy } from '../auth/policy.js';
import type { ImageOptions } from '../face/analyzer.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { subjectRepository } from './subject.repository.js';
import { mediaRepository, type MediaFaceRow } from './media.repository.js';
import type { SuppressionList } from './suppression.js';
import { blurFaces } from './redact.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { TemplateVault } from './template-vault.js';
import { sealedSightingCrops } from './sighting-crops.js';
import { isUniqueViolation } from '../store/errors.js';

export interface IngestFile {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** An ingested photo as a listing shows it: never the image, nor whose faces are in it. */
export interface MediaSummary {
  readonly id: MediaId;
  readonly purpose: string;
  readonly filename: string;
  readonly width: number;
  readonly height: number;
  readonly ingestedAt: string;
  readonly faces: number;
  readonly sightings: number;
}

export type IngestOutcome =
  | { file: string; status: 'ingested'; mediaId: MediaId; faces: number; sightings: number }
  | { file: string; status: 'skipped'; mediaId: MediaId; reason: 'already-ingested' }
  | { file: string; status: 'failed'; code: string; message: string };

/**
 * Operator photos (event photos, a library): every face is matched against the purpose's consenting
 * subjects. A match becomes a sighting; a face that matches nobody keeps only its box (for
 * redaction) and never becomes a template.
 */
export class IngestService {
  private readonly mediaKey: Buffer;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      engine: FaceAnalyzer;
      policy: AccessPolicy;
      index: GalleryIndex;
      suppression: SuppressionList;
      master: MasterKey;
      keyring: KeyRing;
      vault: TemplateVault;
      dataDir: string;
      threshold: number;
    },
  ) {
    this.mediaKey = deps.master.derive('media');
  }

  async ingest(actor: Actor, purposeRef: string, file: IngestFile, opts?: ImageOptions): Promise<IngestOutcome> {
    const purpose = await this.deps.policy.purpose(actor, 'media.ingest', purposeRef);
    // A sighting is a match nobody confirmed: a purpose under the two-person rule makes none.
    if (purpose.confirmations > 0)
      throw new VeilError(
        'INVALID_STATE',
        `Purpose '${purpose.key}' requires each match to be confirmed by ${purpose.confirmations} people (EU AI Act Art. 14(5)); photo ingestion would make unconfirmed sightings.`,
      );
    const sha256 = createHash('sha256').update(file.bytes).digest('hex');
    const db = this.deps.store.db;
    const seen = await mediaRepository.bySha(db, purpose.id, sha256);
    if (seen) return { file: file.name, status: 'skipped', mediaId: seen.id as MediaId, reason: 'already-ingested' };
    let analysis;
    try {
      analysis = await this.deps.engine.analyze(file.bytes, opts);
    } catch (e) {
      if (e instanceof VeilError) return { file: file.name, status: 'failed', code: e.code, message: e.message };
      throw e;
    }
    const faces: MediaFaceRow[] = [];
    const candidates = new Map<number, { subjectId: SubjectId; similarity: number }>();
    const suppressed = await this.deps.suppression.current(db);
    for (let i = 0; i < analysis.faces.length; i++) {
      const f = analysis.faces[i]!;
      const [hit] = await this.deps.index.search(purpose.id, f.embedding, 1, this.deps.threshold);
      // A face on the do-not-match list never becomes a sighting, even if it matches someone.
      if (hit && !suppressed(f.embedding)) candidates.set(i, { subjectId: hit.subjectId, similarity: hit.similarity });
    }
    const ok = await subjectRepository.matchable(
      db,
      [...candidates.values()].map((c) => c.subjectId),
      purpose.id,
    );
    for (let i = 0; i < analysis.faces.length; i++) {
      const f = analysis.faces[i]!;
      const c = candidates.get(i);
      const matched = c && ok.has(c.subjectId) ? c : null;
      faces.push({
        id: newId.other('face'),
        box: roundBox(f.box),
        detScore: Math.round(f.score * 1e4) / 1e4,
        subjectId: matched?.subjectId ?? null,
        similarity: matched ? Math.round(matched.similarity * 1e4) / 1e4 : null,
      });
    }
    // Each sighting's crop is made now, sealed under its subject's key: the access export reads it back.
    const crops = await sealedSightingCrops(this.deps, db, file.bytes, faces);
    const id = newId.media();
    const storedPath = join('media', purpose.id, `${id}.sealed`);
    const abs = join(this.deps.dataDir, storedPath);
    mkdirSync(dirname(abs), { recursive: true, mode: 0o700 });
    writeFileSync(abs, seal(this.mediaKey, file.bytes, `veil.media:${id}`), { mode: 0o600 });
    const sightings = faces.filter((f) => f.subjectId);
    try {
      await this.deps.store.transaction(async (tx) => {
        await mediaRepository.insert(
          tx,
          {
            id,
            purposeId: purpose.id,
            sha256,
            filename: file.name.slice(-200),
            width: analysis.width,
            height: analysis.height,
            storedPath,
            at: this.deps.clock.now().toISOString(),
          },
          faces,
          crops,
        );
        await this.deps.audit.append(tx, {
          actor,
          action: 'media.ingested',
          subjectIds: [...new Set(sightings.map((s) => s.subjectId!))],
          purposeId: purpose.id,
          detail: { mediaId: id, sha256, faces: faces.length, sightings: sightings.length },
        });
      });
    } catch (e) {
      rmSync(abs, { force: true });
      // Another process (a retry through a second API process) committed the same photo meanwhile.
      const winner = isUniqueViolation(e) ? await mediaRepository.bySha(db, purpose.id, sha256) : undefined;
      if (winner)
        return { file: file.name, status: 'skipped', mediaId: winner.id as MediaId, reason: 'already-ingested' };
      throw e;
    }
    return { file: file.name, status: 'ingested', mediaId: id, faces: faces.length, sightings: sightings.length };
  }

  /**
   * Ingested photos the actor may see: of one purpose, or of every purpose its key is bound to;
   * oldest first, a page at a time (the cursor is opaque).
   */
  async list(
    actor: Actor,
    opts: { purpose?: string | undefined; cursor?: string | undefined; limit?: number | undefined } = {},
  ): Promise<{ items: MediaSummary[]; nextCursor: string | null }> {
    const purposes = opts.purpose
      ? [await this.deps.policy.purpose(actor, 'media.read', opts.purpose)]
      : await this.deps.policy.purposes(actor, 'media.read');
    const limit = opts.limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 500)
      throw new VeilError('INVALID_INPUT', 'limit must be a whole number from 1 to 500.');
    const rows = await mediaRepository.list(
      this.deps.store.db,
      purposes.map((p) => p.id),
      opts.cursor ? readCursor(opts.cursor) : null,
      limit + 1,
    );
    const page = rows.slice(0, limit);
    const keys = new Map<string, string>(purposes.map((p) => [p.id, p.key]));
    const last = page.at(-1);
    return {
      items: page.map(({ purposeId, ...m }) => ({ ...m, purpose: keys.get(purposeId) ?? purposeId })),
      nextCursor:
        rows.length > limit && last
          ? Buffer.from(JSON.stringify([last.ingestedAt, last.id])).toString('base64url')
          : null,
    };
  }

  /** A photo, for an actor bound to its purpose. */
  private async media(actor: Actor, mediaId: string) {
    const m = await mediaRepository.get(this.deps.store.db, mediaId);
    if (!m) throw new VeilError('NOT_FOUND', `No media '${mediaId}'.`);
    await this.deps.policy.purpose(actor, 'media.read', m.purpose_id);
    return m;
  }

  /** The stored photo, decrypted (for the rights export, which has established whose it is). */
  async photo(mediaId: string): Promise<Buffer> {
    const m = await mediaRepository.get(this.deps.store.db, mediaId);
    if (!m) throw new VeilError('NOT_FOUND', `No media '${mediaId}'.`);
    return open(this.mediaKey, readFileSync(join(this.deps.dataDir, m.stored_path)), `veil.media:${m.id}`);
  }

  /**
   * The photo with every face blurred except those of subjects who may be shown now (active,
   * with a valid basis in this purpose). Consent withdrawn or erased since ingestion: blurred.
   */
  async redact(actor: Actor, mediaId: string): Promise<{ jpeg: Buffer; blurred: number; shown: number }> {
    const m = await this.media(actor, mediaId);
    const faces = await mediaRepository.faces(this.deps.store.db, m.id);
    const ok = await subjectRepository.matchable(
      this.deps.store.db,
      faces.flatMap((f) => (f.subjectId ? [f.subjectId] : [])),
      m.purpose_id as never,
    );
    const hide = faces.filter((f) => !f.subjectId || !ok.has(f.subjectId));
    const jpeg = await blurFaces(
      await this.photo(m.id),
      hide.map((f) => f.box),
    );
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'media.redacted',
        purposeId: m.purpose_id,
        subjectIds: faces.filter((f) => !hide.includes(f)).map((f) => f.subjectId!),
        detail: { mediaId: m.id, blurred: hide.length },
      }),
    );
    return { jpeg, blurred: hide.length, shown: faces.length - hide.length };
  }

  /** Faces in a photo: boxes, and the subject for sightings. */
  async faces(actor: Actor, mediaId: string) {
    const m = await this.media(actor, mediaId);
    return mediaRepository.faces(this.deps.store.db, m.id);
  }
}

function readCursor(cursor: string): { at: string; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown[];
    if (typeof at === 'string' && typeof id === 'string') return { at, id };
  } catch {
    // not one of ours: said below
  }
  throw new VeilError('INVALID_INPUT', 'cursor is not one this listing gave (pass nextCursor as it came).');
}

function roundBox(b: { x: number; y: number; width: number; height: number }) {
  return { x: Math.round(b.x), y: Math.round(b.y), width: Math.round(b.width), height: Math.round(b.height) };
}

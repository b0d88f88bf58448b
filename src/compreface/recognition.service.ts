import { performance } from 'node:perf_hooks';
import type { Actor } from '../auth/actor.js';
import type { ImageOptions } from '../face/analyzer.js';
import type { SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { GalleryService } from '../gallery/gallery.service.js';
import type { SearchService } from '../gallery/search.service.js';
import type { CoreDeps } from '../service-deps.js';
import { aliasRepository as aliases } from './alias.repository.js';
import { unconfirmable, type CompreFaceKeys } from './compreface-keys.js';
import type { ServedPlugin } from './lenient.js';
import { keepFaces, pluginVersions, shapeFace, type CompreFaceFace } from './shape.js';
import { toCompreFaceSimilarity } from './similarity.js';

export interface FaceCallOptions {
  /** Faces to cover, largest first; 0 or absent: all. */
  readonly limit?: number | undefined;
  /** Subjects per face (CompreFace's default: 1). */
  readonly predictionCount?: number | undefined;
  readonly detProbThreshold?: number | undefined;
  readonly plugins: ReadonlySet<ServedPlugin>;
  readonly status: boolean;
}

type Recognized = CompreFaceFace & { subjects: { subject: string; similarity: number }[] };

/**
 * CompreFace's recognize, verify, detect and verification over Veil's searches. Every search is
 * Veil's own (audited, with the key's justification as its accountability record); subjects below
 * the search's decision threshold are never returned, and similarities are mapped so that
 * threshold reads as 0.60 (similarity.ts). Embeddings (the calculator plugin) are never served.
 */
export class CompreFaceRecognition {
  constructor(
    private readonly deps: CoreDeps & {
      keys: CompreFaceKeys;
      gallery: Pick<GalleryService, 'detect'>;
      search: Pick<SearchService, 'identifyFaces' | 'verify'>;
      model: () => string;
    },
  ) {}

  async recognize(actor: Actor, image: Uint8Array, o: FaceCallOptions, img?: ImageOptions) {
    const ctx = await this.deps.keys.context(actor, 'gallery.search');
    // The purpose took the two-person rule after the key was made: its identifications are refused.
    if (ctx.purpose.confirmations > 0) throw new VeilError('INVALID_STATE', unconfirmable(ctx.purpose));
    const per = Math.max(1, Math.floor(o.predictionCount ?? 1));
    const started = performance.now();
    const r = await this.deps.search.identifyFaces(
      actor,
      {
        purpose: ctx.purpose.id,
        image,
        maxFaces: o.limit && o.limit > 0 ? o.limit : undefined,
        // A few more than asked: a subject with no name under this purpose is not shown.
        limit: per + 4,
        minDetectorScore: o.detProbThreshold,
        justification: ctx.key.justification,
      },
      img,
    );
    const ms = performance.now() - started;
    const names = new Map<SubjectId, string>();
    for (const a of await aliases.list(this.deps.store.db, ctx.purpose.id))
      if (a.subjectId) names.set(a.subjectId, a.alias);
    const result: Recognized[] = r.faces.map((f) => ({
      ...shapeFace({ ...f, score: f.detectorScore }, o.plugins, o.status ? ms / r.faces.length : undefined),
      subjects: f.candidates
        .filter((c) => names.has(c.subjectId))
        .slice(0, per)
        .map((c) => ({
          subject: names.get(c.subjectId)!,
          similarity: toCompreFaceSimilarity(c.similarity, r.threshold),
        })),
    }));
    return { result, ...(o.status ? { plugins_versions: pluginVersions(r.model, o.plugins) } : {}) };
  }

  /** A probe against the subject behind a stored face (all of that subject's faces in this purpose). */
  async verifyAgainst(actor: Actor, imageId: string, image: Uint8Array, o: FaceCallOptions, img?: ImageOptions) {
    const ctx = await this.deps.keys.context(actor, 'gallery.search');
    const row = (await aliases.faces(this.deps.store.db, ctx.purpose.id, { templateIds: [imageId] }))[0];
    if (!row) throw new VeilError('NOT_FOUND', `Image '${imageId}' not found.`);
    const started = performance.now();
    const face = await this.largest(actor, image, o, img);
    const v = await this.deps.search.verify(
      actor,
      { purpose: ctx.purpose.id, image, subjectId: row.subjectId, justification: ctx.key.justification },
      img,
    );
    const ms = o.status ? performance.now() - started : undefined;
    return {
      result: [{ ...shapeFace(face, o.plugins, ms), similarity: toCompreFaceSimilarity(v.similarity, v.threshold) }],
      ...(o.status ? { plugins_versions: pluginVersions(v.model, o.plugins) } : {}),
    };
  }

  async detect(actor: Actor, image: Uint8Array, o: FaceCallOptions, img?: ImageOptions) {
    await this.deps.keys.context(actor, 'faces.detect');
    const started = performance.now();
    const r = await this.deps.gallery.detect(actor, image, img);
    const faces = keepFaces(r.faces, o.limit, o.detProbThreshold);
    if (!faces.length) throw new VeilError('NO_FACE', 'No face is found in the given image.');
    const ms = o.status ? (performance.now() - started) / faces.length : undefined;
    return {
      result: faces.map((f) => shapeFace(f, o.plugins, ms)),
      ...(o.status ? { plugins_versions: pluginVersions(this.deps.model(), o.plugins) } : {}),
    };
  }

  /** Two photos compared (no gallery): the largest face of each. */
  async verification(actor: Actor, source: Uint8Array, target: Uint8Array, o: FaceCallOptions, img?: ImageOptions) {
    const ctx = await this.deps.keys.context(actor, 'gallery.search');
    const started = performance.now();
    const src = await this.largest(actor, source, o, img);
    const tgt = await this.largest(actor, target, o, img);
    const v = await this.deps.search.verify(
      actor,
      { purpose: ctx.purpose.id, image: source, secondImage: target, justification: ctx.key.justification },
      img,
    );
    const ms = o.status ? performance.now() - started : undefined;
    return {
      result: [
        {
          source_image_face: shapeFace(src, o.plugins, ms),
          face_matches: [
            { ...shapeFace(tgt, o.plugins, ms), similarity: toCompreFaceSimilarity(v.similarity, v.threshold) },
          ],
          ...(o.status ? { plugins_versions: pluginVersions(v.model, o.plugins) } : {}),
        },
      ],
    };
  }

  private async largest(actor: Actor, image: Uint8Array, o: FaceCallOptions, img?: ImageOptions) {
    const r = await this.deps.gallery.detect(actor, image, img);
    const face = keepFaces(r.faces, 1, o.detProbThreshold)[0];
    if (!face) throw new VeilError('NO_FACE', 'No face is found in the given image.');
    return face;
  }
}

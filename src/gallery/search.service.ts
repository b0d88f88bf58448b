import type { Tx } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { SearchAccountability } from '../auth/policy.js';
import type { FaceAnalyzer, ImageOptions } from '../face/analyzer.js';
import type { EmbeddedFace } from '../face/engine.js';
import { cosine } from '../face/embedder.js';
import { newId, type PurposeId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { GalleryIndex, SubjectHit } from '../vector/gallery-index.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { recordSearch, type SearchAccount } from './search.record.js';
import type { TemplateVault } from './template-vault.js';
import { round4 } from './numbers.js';
import { confirmationOf } from './match-confirmation.js';
import { MatchConfirmations, type MatchRef, type MatchView, type SearchConfirmations } from './confirmation.service.js';
import { galleryFmr, openSetThreshold, type ImpostorTail } from './open-set.js';
import {
  MAX_CANDIDATES_PER_FACE,
  MAX_FACES_PER_PROBE,
  bounded,
  facesToSearch,
  type Candidate,
  type FaceSearchResult,
  type IdentifyFacesInput,
  type IdentifyFacesResult,
} from './search.faces.js';
import type { CoreDeps } from '../service-deps.js';
import { timed } from '../request-timing.js';

export type { Candidate, FaceSearchResult, IdentifyFacesInput, IdentifyFacesResult } from './search.faces.js';

export interface IdentifyInput extends SearchAccountability {
  readonly purpose: string;
  readonly image: Uint8Array;
  /** Candidates per face. */
  readonly k?: number | undefined;
  /** A stricter decision threshold than the calibrated one; never a looser one. */
  readonly threshold?: number | undefined;
  /** Faces searched, largest first (default and most: 20). */
  readonly maxFaces?: number | undefined;
}

/** The largest face's decision and candidates at the top (single-face clients), every face in `faces`. */
export interface IdentifyResult extends IdentifyFacesResult {
  readonly decision: 'match' | 'no-match';
  readonly candidates: readonly Candidate[];
}

export interface VerifyInput extends SearchAccountability {
  readonly purpose: string;
  readonly image: Uint8Array;
  readonly subjectId?: string | undefined;
  readonly secondImage?: Uint8Array | undefined;
  readonly threshold?: number | undefined;
}

export interface VerifyResult {
  readonly searchId: string;
  readonly similarity: number;
  readonly threshold: number;
  readonly match: boolean;
  readonly model: string;
}

/** The most prominent face: probes are searched by the largest face in them. */
export function largestFace<F extends { box: { width: number; height: number } }>(faces: readonly F[]): F | undefined {
  return [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
}

/**
 * Searches: 1:N identification and 1:1 verification under one purpose. Every search names why it
 * is made, and records who received which subjects (Art. 15(1)(c), 19); the probe is never stored.
 */
export class SearchService {
  constructor(
    private readonly deps: CoreDeps & {
      engine: FaceAnalyzer;
      vault: TemplateVault;
      index: GalleryIndex;
      /** The calibrated 1:1 threshold: verification's floor, and identification's lowest. */
      threshold: number;
      /** The active model's fitted impostor tail: identification's floor follows the open-set rule (open-set.ts). */
      tail: ImpostorTail;
    },
  ) {
    this.matches = new MatchConfirmations(deps);
  }

  /** Decisions on the matches of identifications (EU AI Act Art. 14(5)): confirmation.service.ts. */
  private readonly matches: MatchConfirmations;

  confirmMatch(actor: Actor, m: MatchRef): Promise<MatchView> {
    return this.matches.confirm(actor, m);
  }

  rejectMatch(actor: Actor, m: MatchRef): Promise<MatchView> {
    return this.matches.reject(actor, m);
  }

  /** A search's matches with their confirmation state and who decided what. */
  confirmations(actor: Actor, searchId: string): Promise<SearchConfirmations> {
    return this.matches.state(actor, searchId);
  }

  /** A client may only make the decision stricter: a looser one would disclose people who do not match. */
  private decisionThreshold(requested: number | undefined, floor = this.deps.threshold): number {
    if (requested === undefined) return floor;
    if (!Number.isFinite(requested) || requested > 1)
      throw new VeilError('INVALID_INPUT', 'threshold must be a number up to 1.');
    if (requested < floor) {
      throw new VeilError(
        'INVALID_INPUT',
        `threshold may only be raised above the calibrated ${floor}, never lowered.`,
      );
    }
    return requested;
  }

  /** Identification's floor: the threshold whose FPIR over this many templates is the purpose's target. */
  private openSetFloor(gallerySize: number, fpir: number): number {
    const { tail, threshold: minimum } = this.deps;
    return openSetThreshold({ gallerySize, fpir, tail, minimum });
  }

  /** 1:N search over the purpose's matchable subjects, every face of the probe. Unknown is an answer. */
  async identify(actor: Actor, input: IdentifyInput, opts?: ImageOptions): Promise<IdentifyResult> {
    const r = await this.identifyFaces(actor, { ...input, limit: input.k }, opts);
    const top = r.faces[0]!;
    return { ...r, decision: top.decision, candidates: top.candidates };
  }

  /**
   * 1:N search of every face in the probe (largest first, at most `maxFaces`), each decided on its
   * own under one threshold; one search record keeps which face returned whom. `POST /v1/identify`
   * and compatibility surfaces call this with their own limits.
   */
  async identifyFaces(actor: Actor, input: IdentifyFacesInput, opts?: ImageOptions): Promise<IdentifyFacesResult> {
    const purpose = await timed('policy', () => this.deps.policy.purpose(actor, 'gallery.search', input.purpose));
    const why = this.deps.policy.accountability(actor, purpose, input);
    const k = bounded(input.limit, 1, MAX_CANDIDATES_PER_FACE, 5);
    const maxFaces = bounded(input.maxFaces, 1, MAX_FACES_PER_PROBE, MAX_FACES_PER_PROBE);
    const gallerySize = this.deps.index.size(purpose.id);
    const threshold = this.decisionThreshold(input.threshold, this.openSetFloor(gallerySize, purpose.fpir));
    const analysis = await this.deps.engine.analyze(input.image, opts);
    const faces = facesToSearch(analysis.faces, maxFaces, input.minDetectorScore ?? 0);
    if (!faces.length) throw new VeilError('NO_FACE', 'No face was found in the probe image.');
    const search = () => Promise.all(faces.map((f) => this.deps.index.search(purpose.id, f.embedding, k, threshold)));
    const hits = await timed('search', search);
    const confirmed = await timed('confirm', () => this.confirm(hits, purpose.id, gallerySize, purpose.confirmations));
    const results: FaceSearchResult[] = faces.map((f, i) => ({
      face: i,
      box: f.box,
      detectorScore: f.score,
      landmarks: f.landmarks,
      quality: f.quality,
      decision: confirmed[i]!.length ? 'match' : 'no-match',
      candidates: confirmed[i]!,
    }));
    const searchId = newId.search();
    await this.deps.store.transaction((tx) =>
      this.account(tx, {
        searchId,
        kind: 'identify',
        purpose,
        actor,
        why,
        probe: input.image,
        k,
        threshold,
        gallerySize,
        fpir: purpose.fpir,
        faces: results.map((r) => r.box),
        returned: results.flatMap((r) => r.candidates.map((c) => ({ ...c, face: r.face }))),
        confirmations: purpose.confirmations,
      }),
    );
    return {
      searchId,
      purpose: purpose.key,
      facesInProbe: analysis.faces.length,
      threshold,
      gallerySize,
      fpir: purpose.fpir,
      model: this.deps.engine.modelId,
      faces: results,
    };
  }

  /** 1:1: the probe against one subject's templates in this purpose, or against a second image. */
  async verify(actor: Actor, input: VerifyInput, opts?: ImageOptions): Promise<VerifyResult> {
    const purpose = await this.deps.policy.purpose(actor, 'gallery.search', input.purpose);
    const why = this.deps.policy.accountability(actor, purpose, input);
    if (!input.subjectId === !input.secondImage)
      throw new VeilError('INVALID_INPUT', 'Give either a subject id or a second image.');
    const threshold = this.decisionThreshold(input.threshold);
    const { face } = await this.probe(input.image, opts);
    let similarity: number;
    let returned: SubjectId[] = [];
    if (input.subjectId) {
      const scope = await this.deps.policy.subject(actor, 'gallery.search', input.subjectId);
      const s = scope.subject;
      if (s.state === 'erased') throw new VeilError('UNKNOWN_SUBJECT', `No subject '${input.subjectId}'.`);
      if (s.state === 'restricted')
        throw new VeilError('SUBJECT_RESTRICTED', 'Processing of this subject is restricted (Art. 18).');
      const live = new Set(this.deps.index.templatesOf(s.id as SubjectId));
      const mine = (
        await this.deps.vault.matchable(this.deps.store.db, { subjectId: s.id as SubjectId, purposeId: purpose.id })
      ).filter((t) => live.has(t.templateId));
      if (!mine.length)
        throw new VeilError('UNKNOWN_SUBJECT', `Subject ${s.id} has no matchable template under '${purpose.key}'.`);
      similarity = Math.max(...mine.map((t) => cosine(t.vector, face.embedding)));
      if (similarity >= threshold) returned = [s.id as SubjectId];
    } else {
      const other = await this.probe(input.secondImage!, opts);
      similarity = cosine(face.embedding, other.face.embedding);
    }
    const searchId = newId.search();
    await this.deps.store.transaction((tx) =>
      this.account(tx, {
        searchId,
        kind: 'verify',
        purpose,
        actor,
        why,
        probe: input.image,
        k: 1,
        threshold,
        returned: returned.map((s) => ({ subjectId: s, similarity: round4(similarity) })),
      }),
    );
    return {
      searchId,
      similarity: round4(similarity),
      threshold,
      match: similarity >= threshold,
      model: this.deps.engine.modelId,
    };
  }

  private async probe(bytes: Uint8Array, opts?: ImageOptions): Promise<{ face: EmbeddedFace; count: number }> {
    const r = await this.deps.engine.analyze(bytes, opts);
    const face = largestFace(r.faces);
    if (!face) throw new VeilError('NO_FACE', 'No face was found in the probe image.');
    return { face, count: r.faces.length };
  }

  /** Re-checks each face's index hits against the store: the index is fast, the store is the truth. */
  private async confirm(
    hits: readonly (readonly SubjectHit[])[],
    purposeId: PurposeId,
    gallerySize: number,
    required: number,
  ): Promise<Candidate[][]> {
    // A new match has no decisions yet: under the two-person rule it starts unconfirmed.
    const confirmation = required > 0 ? { confirmation: confirmationOf(required, []) } : {};
    const ok = await subjects.matchable(
      this.deps.store.db,
      [...new Set(hits.flat().map((h) => h.subjectId))],
      purposeId,
    );
    return hits.map((face) =>
      face
        .filter((h) => ok.has(h.subjectId))
        .map((h, i) => ({
          subjectId: h.subjectId,
          similarity: round4(h.similarity),
          rank: i + 1,
          estimatedFalseMatchRate: this.falseMatchRate(h.similarity, gallerySize),
          ...confirmation,
        })),
    );
  }

  /**
   * The chance a person not in the gallery scores this high against one of its templates (fitted tail,
   * corrected for the gallery size). Below 1e-6 the tail is extrapolation its data cannot support: the floor.
   */
  private falseMatchRate(similarity: number, gallerySize: number): number {
    const r = galleryFmr(this.deps.tail, similarity, gallerySize);
    return Math.max(1e-6, Number(r.toPrecision(2)));
  }

  /** The search record and its audit entry (the `record` stage of a timed request). */
  private account(tx: Tx, a: SearchAccount): Promise<void> {
    return timed('record', () => recordSearch(this.deps, tx, a));
  }
}

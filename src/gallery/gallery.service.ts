import { createHash } from 'node:crypto';
import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import type { EmbeddedFace } from '../face/engine.js';
import { assessQuality, type QualityPolicy, DEFAULT_ENROLLMENT_POLICY } from '../face/quality.js';
import { cosine } from '../face/embedder.js';
import { estimatedFmr } from '../face/calibration.js';
import { DEFAULT_CALIBRATION } from '../face/calibration.default.js';
import { newId, type ConsentId, type PurposeId, type SubjectId, type TemplateId } from '../ids.js';
import { VeilError } from '../errors.js';
import { needsConsent, type Purpose } from '../privacy/purpose.js';
import type { PurposeService } from '../privacy/purpose.service.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository } from '../privacy/consent.repository.js';
import type { ConsentDependents } from '../privacy/consent.service.js';
import type { GalleryIndex, SubjectHit } from '../vector/gallery-index.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { searchRepository } from './search.repository.js';
import type { TemplateVault } from './template-vault.js';
import type { SuppressionList } from './suppression.js';
import { touchIndex } from '../vector/index-feed.js';

export interface EnrollInput {
  readonly purpose: string;
  /** An existing subject (e.g. the one a consent record created); omitted for non-consent purposes to create one. */
  readonly subjectId?: string;
  readonly consentId?: string;
  /** Where the data came from, required when the basis is not consent (Art. 14(2)(f), 15(1)(g)). */
  readonly sourceReference?: string;
  readonly images: readonly Uint8Array[];
}

export interface EnrollResult {
  readonly subjectId: SubjectId;
  readonly templates: readonly { templateId: TemplateId; quality: EmbeddedFace['quality'] }[];
  /** Other subjects of this purpose whose face matches (possible duplicate enrollment). */
  readonly possibleDuplicates: readonly { subjectId: SubjectId; similarity: number }[];
}

export interface Candidate {
  readonly subjectId: SubjectId;
  readonly similarity: number;
  readonly rank: number;
  /** Probability a different person scores this high (fitted impostor tail). */
  readonly estimatedFalseMatchRate: number;
}

export interface SearchAccountability {
  readonly caseRef?: string;
  readonly justification?: string;
}

export interface IdentifyInput extends SearchAccountability {
  readonly purpose: string;
  readonly image: Uint8Array;
  readonly k?: number;
  readonly threshold?: number;
}

export interface IdentifyResult {
  readonly searchId: string;
  readonly purpose: string;
  readonly facesInProbe: number;
  readonly threshold: number;
  readonly decision: 'match' | 'no-match';
  readonly candidates: readonly Candidate[];
  readonly model: string;
}

export interface VerifyInput extends SearchAccountability {
  readonly purpose: string;
  readonly image: Uint8Array;
  readonly subjectId?: string;
  readonly secondImage?: Uint8Array;
  readonly threshold?: number;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The most prominent face: probes are searched by the largest face in them. */
export function largestFace<F extends { box: { width: number; height: number } }>(faces: readonly F[]): F | undefined {
  return [...faces].sort((a, b) => b.box.width * b.box.height - a.box.width * a.box.height)[0];
}

export class GalleryService implements ConsentDependents {
  readonly threshold: number;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      engine: FaceAnalyzer;
      purposes: PurposeService;
      keyring: KeyRing;
      vault: TemplateVault;
      index: GalleryIndex;
      suppression: SuppressionList;
      quality?: QualityPolicy;
      threshold?: number;
    },
  ) {
    this.threshold = deps.threshold ?? DEFAULT_CALIBRATION.threshold;
  }

  /** Builds the live index from the store (start-up, or after a restore). */
  async rebuildIndex(): Promise<number> {
    const all = await this.deps.vault.matchable(this.deps.store.db);
    this.deps.index.clear();
    for (const t of all) this.deps.index.add(t);
    return all.length;
  }

  private async analyzeOne(bytes: Uint8Array, index: number): Promise<EmbeddedFace> {
    const r = await this.deps.engine.analyze(bytes);
    if (!r.faces.length) throw new VeilError('NO_FACE', `Image ${index + 1}: no face was found.`, { image: index + 1 });
    if (r.faces.length > 1)
      throw new VeilError(
        'MULTIPLE_FACES',
        `Image ${index + 1}: ${r.faces.length} faces were found; an enrollment photo must show one person.`,
        { image: index + 1, faces: r.faces.length },
      );
    return r.faces[0]!;
  }

  private checkQuality(f: EmbeddedFace, index: number): void {
    const verdict = assessQuality(f.quality, this.deps.quality ?? DEFAULT_ENROLLMENT_POLICY);
    if (!verdict.acceptable) {
      throw new VeilError('LOW_QUALITY', `Image ${index + 1}: ${verdict.reasons.map((x) => x.message).join(' ')}`, {
        image: index + 1,
        reasons: verdict.reasons.map((x) => x.code),
      });
    }
  }

  /** The enrollment checks alone (face count, do-not-enroll list, quality), writing nothing: the portal runs them before recording consent. */
  async checkEnrollable(images: readonly Uint8Array[]): Promise<EmbeddedFace['quality'][]> {
    const faces: EmbeddedFace[] = [];
    for (let i = 0; i < images.length; i++) faces.push(await this.analyzeOne(images[i]!, i));
    const suppressed = await this.deps.suppression.current(this.deps.store.db);
    for (const f of faces)
      if (suppressed(f.embedding))
        throw new VeilError(
          'SUBJECT_SUPPRESSED',
          'This person asked not to be enrolled; the face is on the do-not-enroll list.',
        );
    faces.forEach((f, i) => this.checkQuality(f, i));
    return faces.map((f) => f.quality);
  }

  async enroll(input: EnrollInput, actor: Actor): Promise<EnrollResult> {
    const purpose = await this.deps.purposes.active(input.purpose);
    if (!input.images.length) throw new VeilError('INVALID_INPUT', 'At least one image is needed to enroll.');
    const db = this.deps.store.db;
    let consentId: ConsentId | null = null;
    let subjectId = input.subjectId as SubjectId | undefined;
    if (needsConsent(purpose)) {
      if (!input.consentId && !subjectId)
        throw new VeilError(
          'CONSENT_REQUIRED',
          `Purpose '${purpose.key}' rests on consent: record the person's consent first.`,
        );
      const c = input.consentId ? await consentRepository.get(db, input.consentId) : undefined;
      if (input.consentId && !c) throw new VeilError('CONSENT_REQUIRED', `No consent record '${input.consentId}'.`);
      if (c && (c.purposeId !== purpose.id || (subjectId && c.subjectId !== subjectId)))
        throw new VeilError('CONSENT_REQUIRED', 'The consent record is for another purpose or person.');
      subjectId ??= c?.subjectId;
      const cid = c?.id ?? (await consentRepository.latestGiven(db, subjectId!, purpose.id));
      const consent = cid && (await consentRepository.get(db, cid));
      if (!consent)
        throw new VeilError('CONSENT_REQUIRED', `Subject ${subjectId} has not consented to '${purpose.key}'.`);
      if (consent.state === 'withdrawn')
        throw new VeilError('CONSENT_WITHDRAWN', 'This consent was withdrawn; new consent is needed.');
      if (consent.state !== 'given' || (consent.expiresAt && consent.expiresAt <= this.deps.clock.now().toISOString()))
        throw new VeilError('CONSENT_REQUIRED', 'This consent has expired.');
      consentId = consent.id;
    } else if (!input.sourceReference?.trim()) {
      throw new VeilError(
        'SOURCE_REFERENCE_REQUIRED',
        `Purpose '${purpose.key}' rests on ${purpose.lawfulBasis}: each enrollment needs a source reference.`,
      );
    }
    if (subjectId) {
      const s = await subjects.get(db, subjectId);
      if (!s) throw new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectId}'.`);
      if (s.state === 'restricted')
        throw new VeilError('SUBJECT_RESTRICTED', 'Processing of this subject is restricted (Art. 18).');
      if (s.state === 'erased') throw new VeilError('SUBJECT_ERASED', 'This subject has been erased.');
    }

    // All engine work happens before the transaction: nothing is written unless every image passes.
    const faces: EmbeddedFace[] = [];
    for (let i = 0; i < input.images.length; i++) faces.push(await this.analyzeOne(input.images[i]!, i));
    // Suppression first: an objection is honoured whatever the photo's quality.
    const suppressed = await this.deps.suppression.current(db);
    for (const f of faces) {
      if (f.model !== this.deps.engine.modelId)
        throw new VeilError('MODEL_MISMATCH', 'The engine produced a template from another model.');
      if (suppressed(f.embedding))
        throw new VeilError(
          'SUBJECT_SUPPRESSED',
          'This person asked not to be enrolled; the face is on the do-not-enroll list.',
        );
    }
    faces.forEach((f, i) => this.checkQuality(f, i));
    const duplicates = new Map<SubjectId, number>();
    for (const f of faces) {
      for (const h of this.deps.index.search(purpose.id, f.embedding, 3, this.threshold)) {
        if (h.subjectId !== subjectId)
          duplicates.set(h.subjectId, Math.max(duplicates.get(h.subjectId) ?? -1, h.similarity));
      }
    }

    const now = this.deps.clock.now().toISOString();
    const sid = subjectId ?? newId.subject();
    const made: {
      templateId: TemplateId;
      vector: Float32Array;
      quality: EmbeddedFace['quality'];
      imagePath: string | null;
    }[] = [];
    await this.deps.store
      .transaction(async (tx) => {
        if (!subjectId) {
          await subjects.insert(tx, { id: sid, region: null, contactHash: null, contactSealed: null, at: now });
          await this.deps.audit.append(tx, {
            actor,
            action: 'subject.created',
            subjectIds: [sid],
            purposeId: purpose.id,
            detail: {},
          });
        }
        const key = await this.deps.keyring.getOrCreate(tx, sid, now);
        for (let i = 0; i < faces.length; i++) {
          const f = faces[i]!;
          const id = newId.template();
          const imagePath = purpose.keepSourceImages
            ? this.deps.vault.writeImage(key, id, sid, purpose.id, input.images[i]!)
            : null;
          await subjects.insertTemplate(
            tx,
            {
              id,
              subjectId: sid,
              purposeId: purpose.id,
              model: f.model,
              quality: qualityNumbers(f),
              sourceSha256: sha256(input.images[i]!),
              sealed: this.deps.vault.sealTemplate(key, id, sid, purpose.id, f.embedding),
              imagePath,
              createdAt: now,
            },
            f.embedding.length,
          );
          made.push({ templateId: id, vector: f.embedding, quality: f.quality, imagePath });
        }
        await subjects.upsertEnrollment(tx, {
          subjectId: sid,
          purposeId: purpose.id,
          consentId,
          sourceReference: input.sourceReference?.trim() || null,
          at: now,
        });
        await touchIndex(this.deps.store, tx, sid, now);
        await this.deps.audit.append(tx, {
          actor,
          action: 'subject.enrolled',
          subjectIds: [sid],
          purposeId: purpose.id,
          detail: {
            templates: made.map((m) => m.templateId),
            model: this.deps.engine.modelId,
            ...(consentId ? { consentId } : { basis: purpose.lawfulBasis }),
            possibleDuplicates: duplicates.size,
          },
        });
      })
      .catch((e) => {
        this.deps.vault.deleteFiles(made.map((m) => m.imagePath));
        throw e;
      });
    for (const m of made)
      this.deps.index.add({ templateId: m.templateId, subjectId: sid, purposeId: purpose.id, vector: m.vector });
    return {
      subjectId: sid,
      templates: made.map((m) => ({ templateId: m.templateId, quality: m.quality })),
      possibleDuplicates: [...duplicates].map(([s, sim]) => ({ subjectId: s, similarity: round4(sim) })),
    };
  }

  private requireAccountability(purpose: Purpose, a: SearchAccountability): void {
    if (purpose.requiresCaseRef && !a.caseRef?.trim())
      throw new VeilError('CASE_REF_REQUIRED', `Searches under '${purpose.key}' need a case reference.`);
    if (!a.caseRef?.trim() && !a.justification?.trim())
      throw new VeilError('CASE_REF_REQUIRED', 'Every search needs a case reference or a justification.');
  }

  private async probe(bytes: Uint8Array): Promise<{ face: EmbeddedFace; count: number }> {
    const r = await this.deps.engine.analyze(bytes);
    const face = largestFace(r.faces);
    if (!face) throw new VeilError('NO_FACE', 'No face was found in the probe image.');
    return { face, count: r.faces.length };
  }

  /** 1:N search over the purpose's matchable subjects. Unknown is an answer; the probe is never stored. */
  async identify(input: IdentifyInput, actor: Actor): Promise<IdentifyResult> {
    const purpose = await this.deps.purposes.active(input.purpose);
    this.requireAccountability(purpose, input);
    const k = Math.max(1, Math.min(50, input.k ?? 5));
    const threshold = input.threshold ?? this.threshold;
    if (!(threshold >= -1 && threshold <= 1)) throw new VeilError('INVALID_INPUT', 'threshold must be within [-1, 1].');
    const { face, count } = await this.probe(input.image);
    const hits = this.deps.index.search(purpose.id, face.embedding, k, threshold);
    const candidates = await this.confirm(hits, purpose.id);
    const searchId = newId.search();
    await this.deps.store.transaction((tx) =>
      this.account(tx, {
        searchId,
        kind: 'identify',
        purpose,
        actor,
        input,
        probe: input.image,
        k,
        threshold,
        candidates,
      }),
    );
    return {
      searchId,
      purpose: purpose.key,
      facesInProbe: count,
      threshold,
      decision: candidates.length ? 'match' : 'no-match',
      candidates,
      model: this.deps.engine.modelId,
    };
  }

  /** Re-checks index hits against the store: the index is fast, the store is the truth. */
  private async confirm(hits: readonly SubjectHit[], purposeId: PurposeId): Promise<Candidate[]> {
    const ok = await subjects.matchable(
      this.deps.store.db,
      hits.map((h) => h.subjectId),
      purposeId,
    );
    return hits
      .filter((h) => ok.has(h.subjectId))
      .map((h, i) => ({
        subjectId: h.subjectId,
        similarity: round4(h.similarity),
        rank: i + 1,
        // Below 1e-6 the fitted tail is extrapolation the calibration data cannot support: report the floor.
        estimatedFalseMatchRate: Math.max(1e-6, Number(estimatedFmr(DEFAULT_CALIBRATION, h.similarity).toPrecision(2))),
      }));
  }

  private async account(
    tx: Tx,
    a: {
      searchId: string;
      kind: 'identify' | 'verify';
      purpose: Purpose;
      actor: Actor;
      input: SearchAccountability;
      probe: Uint8Array;
      k: number;
      threshold: number;
      candidates: readonly { subjectId: SubjectId; similarity: number }[];
    },
  ): Promise<void> {
    await searchRepository.insert(tx, {
      id: a.searchId as never,
      kind: a.kind,
      purposeId: a.purpose.id,
      actorKind: a.actor.kind,
      actorId: a.actor.id,
      caseRef: a.input.caseRef?.trim() || null,
      justification: a.input.justification?.trim() || null,
      probeSha256: sha256(a.probe),
      k: a.k,
      threshold: a.threshold,
      at: this.deps.clock.now().toISOString(),
      results: a.candidates.map((c) => ({ subjectId: c.subjectId, similarity: c.similarity })),
    });
    await this.deps.audit.append(tx, {
      actor: a.actor,
      action: a.kind === 'identify' ? 'search.performed' : 'verify.performed',
      subjectIds: a.candidates.map((c) => c.subjectId),
      purposeId: a.purpose.id,
      detail: {
        searchId: a.searchId,
        caseRef: a.input.caseRef?.trim() || null,
        justification: a.input.justification?.trim() || null,
        results: a.candidates.length,
        threshold: a.threshold,
      },
    });
  }

  /** 1:1: the probe against one subject's templates in this purpose, or against a second image. */
  async verify(
    input: VerifyInput,
    actor: Actor,
  ): Promise<{ searchId: string; similarity: number; threshold: number; match: boolean; model: string }> {
    const purpose = await this.deps.purposes.active(input.purpose);
    this.requireAccountability(purpose, input);
    if (!input.subjectId === !input.secondImage)
      throw new VeilError('INVALID_INPUT', 'Give either a subject id or a second image.');
    const threshold = input.threshold ?? this.threshold;
    const { face } = await this.probe(input.image);
    let similarity: number;
    let returned: SubjectId[] = [];
    if (input.subjectId) {
      const s = await subjects.get(this.deps.store.db, input.subjectId);
      if (!s || s.state === 'erased') throw new VeilError('UNKNOWN_SUBJECT', `No subject '${input.subjectId}'.`);
      if (s.state === 'restricted')
        throw new VeilError('SUBJECT_RESTRICTED', 'Processing of this subject is restricted (Art. 18).');
      const ids = new Set(this.deps.index.templatesOf(s.id));
      const mine = (
        await this.deps.vault.matchable(this.deps.store.db, { subjectId: s.id, purposeId: purpose.id })
      ).filter((t) => ids.has(t.templateId));
      if (!mine.length)
        throw new VeilError('UNKNOWN_SUBJECT', `Subject ${s.id} has no matchable template under '${purpose.key}'.`);
      similarity = Math.max(...mine.map((t) => cosine(t.vector, face.embedding)));
      if (similarity >= threshold) returned = [s.id];
    } else {
      const other = await this.probe(input.secondImage!);
      similarity = cosine(face.embedding, other.face.embedding);
    }
    const searchId = newId.search();
    const match = similarity >= threshold;
    await this.deps.store.transaction((tx) =>
      this.account(tx, {
        searchId,
        kind: 'verify',
        purpose,
        actor,
        input,
        probe: input.image,
        k: 1,
        threshold,
        candidates: returned.map((s) => ({ subjectId: s, similarity: round4(similarity) })),
      }),
    );
    return { searchId, similarity: round4(similarity), threshold, match, model: this.deps.engine.modelId };
  }

  /** Art. 18 restriction: kept, never matched, never returned; lifting restores matching. */
  async setRestricted(subjectRef: string, restricted: boolean, actor: Actor, reason: string): Promise<void> {
    const s = await subjects.get(this.deps.store.db, subjectRef);
    if (!s || s.state === 'erased') throw new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectRef}'.`);
    if ((s.state === 'restricted') === restricted) return;
    if (restricted) this.deps.index.removeSubject(s.id);
    await this.deps.store.transaction(async (tx) => {
      await subjects.setState(tx, s.id, restricted ? 'restricted' : 'active', this.deps.clock.now().toISOString());
      await touchIndex(this.deps.store, tx, s.id, this.deps.clock.now().toISOString());
      await this.deps.audit.append(tx, {
        actor,
        action: restricted ? 'subject.restricted' : 'subject.unrestricted',
        subjectIds: [s.id],
        detail: { reason },
      });
    });
    if (!restricted)
      for (const t of await this.deps.vault.matchable(this.deps.store.db, { subjectId: s.id })) this.deps.index.add(t);
  }

  // ConsentDependents: what withdrawing consent (and later erasure) does to templates.
  stopMatching(subjectId: SubjectId, purposeId?: PurposeId): void {
    this.deps.index.removeSubject(subjectId, purposeId);
  }

  async deleteTemplates(
    tx: Tx,
    subjectId: SubjectId,
    purposeId: PurposeId | undefined,
    actor: Actor,
  ): Promise<(string | null)[]> {
    const gone = await subjects.deleteTemplates(tx, { subjectId, ...(purposeId ? { purposeId } : {}) });
    await touchIndex(this.deps.store, tx, subjectId, this.deps.clock.now().toISOString());
    if (gone.length) {
      await this.deps.audit.append(tx, {
        actor,
        action: 'template.removed',
        subjectIds: [subjectId],
        purposeId: purposeId ?? null,
        detail: { templates: gone.map((t) => t.id) },
      });
    }
    return gone.map((t) => t.imagePath);
  }

  deleteFiles(paths: (string | null)[]): void {
    this.deps.vault.deleteFiles(paths);
  }
}

function round4(x: number): number {
  return Math.round(x * 10_000) / 10_000;
}

function qualityNumbers(f: EmbeddedFace): Record<string, number> {
  const q = f.quality;
  return {
    faceSize: Math.round(q.faceSize),
    eyeDistance: Math.round(q.eyeDistance),
    detectorScore: round4(q.detectorScore),
    sharpness: Math.round(q.sharpness),
    yaw: Math.round(q.yaw),
    roll: Math.round(q.roll),
    pitch: Math.round(q.pitch),
  };
}

import { createHash } from 'node:crypto';

import type { Actor } from '../auth/actor.js';
import type { Analysis, DetectedFace, EmbeddedFace } from '../face/engine.js';
import type { FaceAnalyzer, ImageOptions } from '../face/analyzer.js';
import type { QualityPolicy } from '../face/quality.js';
import type { Box } from '../face/geometry.js';
import {
  ENROLLMENT_GATES,
  enrollmentFace,
  requireGate,
  type EnrollmentGateName,
  type FacePick,
} from './enrollment-gate.js';
import { newId, type ConsentId, type SubjectId, type TemplateId } from '../ids.js';
import { VeilError } from '../errors.js';
import { needsConsent, type Purpose } from '../privacy/purpose.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository } from '../privacy/consent.repository.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { reloadSubject, touchIndex } from '../vector/index-feed.js';
import { subjectRepository as subjects } from './subject.repository.js';
import type { EnrollFace, EnrollInput, EnrollResult } from './enroll-input.js';
import type { TemplateVault } from './template-vault.js';
import type { SuppressionList } from './suppression.js';
import { qualityNumbers, round4 } from './numbers.js';
import type { CoreDeps } from '../service-deps.js';
import type { Executor, Tx } from '../store/store.js';

export type { EnrollInput, EnrollResult } from './enroll-input.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const SUPPRESSED = 'This person asked not to be enrolled; the face is on the do-not-enroll list.';

/** Enrollment into a purpose's gallery: consent or a source reference first, then the face checks, then one transaction. */
export class GalleryService {
  constructor(
    private readonly deps: CoreDeps & {
      engine: FaceAnalyzer;
      keyring: KeyRing;
      vault: TemplateVault;
      index: GalleryIndex;
      suppression: SuppressionList;
      threshold: number;
      quality?: QualityPolicy;
    },
  ) {}

  /** Faces in a photo with boxes, landmarks and quality; nothing is stored or matched. */
  async detect(actor: Actor, image: Uint8Array, opts?: ImageOptions): Promise<Analysis<DetectedFace>> {
    this.deps.policy.require(actor, 'faces.detect');
    return this.deps.engine.detect(image, opts);
  }

  async enroll(actor: Actor, input: EnrollInput, opts?: ImageOptions): Promise<EnrollResult> {
    const purpose = await this.deps.policy.purpose(actor, 'gallery.enroll', input.purpose);
    if (input.subjectId) await this.deps.policy.subject(actor, 'gallery.enroll', input.subjectId);
    return this.enrollUnder(actor, purpose, input, opts);
  }

  /**
   * Enrollment once the caller's right to enroll under this purpose is established (the actor's key, or the
   * portal after the person proved their address and consented). `inspected`: the faces as a caller already
   * checked them (the portal), so the engine runs once.
   */
  async enrollUnder(
    actor: Actor,
    purpose: Purpose,
    input: EnrollInput,
    opts?: ImageOptions,
    inspected?: readonly EmbeddedFace[],
  ): Promise<EnrollResult> {
    if (!input.images.length) throw new VeilError('INVALID_INPUT', 'At least one image is needed to enroll.');
    if (inspected && inspected.length !== input.images.length)
      throw new VeilError('INTERNAL', 'One inspected face per image is needed.');
    const { subjectId, consentId } = await this.basis(purpose, input);
    // All engine work happens before the transaction: nothing is written unless every image passes.
    const faces = inspected ?? (await this.checkFaces(input.images, opts, input));
    const duplicates = new Map<SubjectId, number>();
    for (const f of faces) {
      for (const h of await this.deps.index.search(purpose.id, f.embedding, 3, this.deps.threshold)) {
        if (h.subjectId !== subjectId)
          duplicates.set(h.subjectId, Math.max(duplicates.get(h.subjectId) ?? -1, h.similarity));
      }
    }
    const now = this.deps.clock.now().toISOString();
    const sid = subjectId ?? newId.subject();
    const made: {
      templateId: TemplateId;
      quality: EmbeddedFace['quality'];
      imagePath: string | null;
      box: Box;
      face: 'only' | 'dominant' | 'picked';
    }[] = [];
    await this.deps.store
      .transaction(async (tx) => {
        await this.recheck(tx, subjectId, consentId);
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
          const face = (f as EnrollFace).chosen ?? 'only';
          made.push({ templateId: id, quality: f.quality, imagePath, box: f.box, face });
          const sealed = this.deps.vault.sealTemplate(key, id, sid, purpose.id, f.embedding);
          await subjects.insertTemplate(
            tx,
            {
              id,
              subjectId: sid,
              purposeId: purpose.id,
              model: f.model,
              quality: qualityNumbers(f.quality),
              sourceSha256: sha256(input.images[i]!),
              sealed,
              imagePath,
              createdAt: now,
            },
            f.embedding.length,
          );
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
    // Read from the store, not added from memory: a withdrawal or erasure of this person committing
    // since our commit must win, and the follower may already be past its feed entry.
    await reloadSubject(this.deps, sid);
    return {
      subjectId: sid,
      templates: made.map((m) => ({ templateId: m.templateId, quality: m.quality, box: m.box, face: m.face })),
      possibleDuplicates: [...duplicates].map(([s, sim]) => ({ subjectId: s, similarity: round4(sim) })),
    };
  }

  /** The enrollment checks (one face each, do-not-enroll list, quality), writing nothing. */
  async checkFaces(
    images: readonly Uint8Array[],
    opts?: ImageOptions,
    how: { gate?: EnrollmentGateName | undefined; faces?: readonly (FacePick | null)[] | undefined } = {},
  ): Promise<EmbeddedFace[]> {
    const { faces, suppressed } = await this.inspect(images, opts, {
      suppressionFirst: true,
      gate: how.gate ?? 'import',
      picks: how.faces,
    });
    if (suppressed) throw new VeilError('SUBJECT_SUPPRESSED', SUPPRESSED);
    return faces;
  }

  /**
   * Analyses enrollment photos: one face each (the only one, the one that dominates, or the one
   * picked), good enough to find its owner again under the gate (default `selfie`: the portal's,
   * strict, as the person can retake; operators' enrollments use `import`). Whether a face
   * is on the do-not-enroll list is returned, not thrown, so a public caller can keep its answer
   * the same either way; operators get the objection first, whatever the photo's quality.
   */
  async inspect(
    images: readonly Uint8Array[],
    opts: ImageOptions | undefined,
    order: {
      suppressionFirst: boolean;
      gate?: EnrollmentGateName | undefined;
      picks?: readonly (FacePick | null)[] | undefined;
    },
  ): Promise<{ faces: EnrollFace[]; suppressed: boolean }> {
    const gate = this.deps.quality ?? ENROLLMENT_GATES[order.gate ?? 'selfie'];
    const faces: EnrollFace[] = [];
    for (let i = 0; i < images.length; i++) {
      const r = await this.deps.engine.analyze(images[i]!, opts);
      const { face, why } = enrollmentFace(r.faces, i + 1, order.picks?.[i]);
      if (face.model !== this.deps.engine.modelId)
        throw new VeilError('MODEL_MISMATCH', 'The engine produced a template from another model.');
      faces.push(why === 'only' ? face : { ...face, chosen: why });
    }
    const isSuppressed = await this.deps.suppression.current(this.deps.store.db);
    const suppressed = faces.some((f) => isSuppressed(f.embedding));
    if (suppressed && order.suppressionFirst) return { faces, suppressed };
    faces.forEach((f, i) => requireGate(f.quality, i + 1, gate));
    return { faces, suppressed };
  }

  /** The lawful basis of an enrollment: a given, unexpired consent, or a source reference. */
  private async basis(
    purpose: Purpose,
    input: EnrollInput,
  ): Promise<{ subjectId: SubjectId | undefined; consentId: ConsentId | null }> {
    const db = this.deps.store.db;
    let subjectId = input.subjectId as SubjectId | undefined;
    let consentId: ConsentId | null = null;
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
      this.stillGiven(consent);
      consentId = consent.id;
    } else if (!input.sourceReference?.trim()) {
      throw new VeilError(
        'SOURCE_REFERENCE_REQUIRED',
        `Purpose '${purpose.key}' rests on ${purpose.lawfulBasis}: each enrollment needs a source reference.`,
      );
    }
    if (subjectId) await this.stillProcessable(db, subjectId);
    return { subjectId, consentId };
  }

  /** The basis checked again in the enrollment's transaction: a withdrawal since `basis()` must win. */
  private async recheck(tx: Tx, subjectId: SubjectId | undefined, consentId: ConsentId | null): Promise<void> {
    // PostgreSQL: the person's row first, shared (a change of their face data locks it first, then the
    // consent's): an erasure or removal waits for this enrollment, or this one for it, so its delete of
    // their templates never misses the one written here (read committed: test/rules/enroll-races.test.ts).
    if (subjectId) await subjects.lockForChange(tx, [subjectId], this.deps.store.engine, true);
    if (consentId) {
      const c = await consentRepository.lockedState(tx, consentId, this.deps.store.engine);
      if (!c) throw new VeilError('CONSENT_REQUIRED', `No consent record '${consentId}'.`);
      this.stillGiven(c);
    }
    if (subjectId) await this.stillProcessable(tx, subjectId);
  }

  private stillGiven(c: { state: string; expiresAt: string | null }): void {
    if (c.state === 'withdrawn')
      throw new VeilError('CONSENT_WITHDRAWN', 'This consent was withdrawn; new consent is needed.');
    if (c.state !== 'given' || (c.expiresAt && c.expiresAt <= this.deps.clock.now().toISOString()))
      throw new VeilError('CONSENT_REQUIRED', 'This consent has expired.');
  }

  private async stillProcessable(ex: Executor, subjectId: SubjectId): Promise<void> {
    const s = await subjects.get(ex, subjectId);
    if (!s) throw new VeilError('UNKNOWN_SUBJECT', `No subject '${subjectId}'.`);
    if (s.state === 'restricted')
      throw new VeilError('SUBJECT_RESTRICTED', 'Processing of this subject is restricted (Art. 18).');
    if (s.state === 'erased') throw new VeilError('SUBJECT_ERASED', 'This subject has been erased.');
  }
}

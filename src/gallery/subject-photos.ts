import sharp from 'sharp';
import type { SubjectScope } from '../auth/policy.js';
import { inScope } from '../auth/policy.js';
import type { PurposeId, SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import type { KeyRing } from '../privacy/keyring.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import type { Store } from '../store/store.js';
import type { Box } from '../face/geometry.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { mediaRepository } from './media.repository.js';
import type { TemplateVault } from './template-vault.js';
import type { IngestService } from './ingest.service.js';
import { ownFaceCrop } from './redact.js';

/** Thumbnails are small: enough to compare faces, not a copy of the photo. */
const THUMB = 320;

const thumbnail = (bytes: Uint8Array) =>
  sharp(bytes)
    .rotate()
    .resize(THUMB, THUMB, { fit: 'inside', withoutEnlargement: true })
    .jpeg({ quality: 82 })
    .toBuffer();

/**
 * The photos the console shows of a subject, decrypted here and nowhere else: a kept enrollment
 * photo (only where its purpose keeps photos, opened with the subject's own key) and their face in a
 * photo they were matched in (other faces blurred). The caller has checked the actor's scope.
 */
export class SubjectPhotos {
  constructor(
    private readonly deps: {
      store: Store;
      keyring: KeyRing;
      vault: TemplateVault;
      ingest: Pick<IngestService, 'photo'>;
    },
  ) {}

  private refuseRestricted(scope: SubjectScope): void {
    if (scope.subject.state === 'restricted')
      throw new VeilError(
        'SUBJECT_RESTRICTED',
        'Processing of this subject is restricted (Art. 18): no photo is shown.',
      );
    if (scope.subject.state === 'erased') throw new VeilError('NOT_FOUND', 'This subject was erased: nothing is kept.');
  }

  async enrollment(
    scope: SubjectScope,
    only: { template?: string | undefined; purposeId?: PurposeId | undefined },
  ): Promise<{ jpeg: Buffer; templateId: string; purposeId: PurposeId }> {
    this.refuseRestricted(scope);
    const db = this.deps.store.db;
    const keeps = new Set((await purposeRepository.list(db)).filter((p) => p.keepSourceImages).map((p) => p.id));
    const t = (await subjects.templates(db, { subjectId: scope.subject.id as SubjectId })).find(
      (x) =>
        x.imagePath &&
        inScope(scope, x.purposeId) &&
        keeps.has(x.purposeId) &&
        (!only.template || x.id === only.template) &&
        (!only.purposeId || x.purposeId === only.purposeId),
    );
    const none = () => new VeilError('NOT_FOUND', 'No enrollment photo is kept for this subject under these purposes.');
    if (!t) throw none();
    const bytes = this.deps.vault.readImage(await this.deps.keyring.get(db, t.subjectId), t);
    if (!bytes) throw none();
    return { jpeg: await thumbnail(bytes), templateId: t.id, purposeId: t.purposeId };
  }

  async sighting(scope: SubjectScope, s: { id: string; mediaId: string; box: Box }): Promise<Buffer> {
    this.refuseRestricted(scope);
    const others = (await mediaRepository.faces(this.deps.store.db, s.mediaId))
      .filter((f) => f.id !== s.id)
      .map((f) => f.box);
    return thumbnail(await ownFaceCrop(await this.deps.ingest.photo(s.mediaId), s.box, others));
  }
}

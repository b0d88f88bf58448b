import type { Store } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import { isVeilError } from '../errors.js';
import { cosine } from '../face/embedder.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository } from '../privacy/consent.repository.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import type { TemplateVault } from '../gallery/template-vault.js';

/**
 * Finds whose templates a rights requester's selfie matches, in every purpose, restricted subjects
 * included (it may be their own request), at the strict identity-proof threshold.
 */
export class FaceFinder {
  constructor(
    private readonly deps: {
      store: Store;
      index: GalleryIndex;
      keyring: KeyRing;
      vault: TemplateVault;
      threshold: number;
    },
  ) {}

  async find(e: Float32Array): Promise<Map<SubjectId, number>> {
    const found = new Map<SubjectId, number>();
    for (const h of await this.deps.index.searchAll(e, 20, this.deps.threshold)) found.set(h.subjectId, h.similarity);
    const db = this.deps.store.db;
    // Restricted subjects are out of the live index: their templates are opened from the store.
    for (const id of await subjects.idsInState(db, 'restricted')) {
      let key: Buffer;
      try {
        key = await this.deps.keyring.get(db, id);
      } catch (err) {
        if (isVeilError(err, 'KEY_DESTROYED')) continue;
        throw err;
      }
      for (const v of await this.deps.vault.comparable(db, id, key)) {
        const sim = cosine(v, e);
        if (sim >= this.deps.threshold) found.set(id, Math.max(found.get(id) ?? -1, sim));
      }
    }
    return found;
  }

  async subjectOfConsent(consentId: string): Promise<SubjectId | undefined> {
    return (await consentRepository.get(this.deps.store.db, consentId))?.subjectId;
  }
}

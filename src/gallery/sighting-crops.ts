import type { Executor } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { MediaFaceRow, SightingCropRow } from './media.repository.js';
import type { TemplateVault } from './template-vault.js';
import { ownFaceCrops } from './redact.js';

/**
 * The face crop of every sighting in a photo, made at ingestion: the person's face with every other
 * face pixelated (the crop their access export shows), sealed under *that person's* data key, so
 * it is unreadable once the key is shredded. One decode of the photo for all its sightings. A
 * subject whose key is already gone (erased meanwhile) gets no crop.
 */
export async function sealedSightingCrops(
  deps: { keyring: KeyRing; vault: TemplateVault },
  ex: Executor,
  photo: Uint8Array,
  faces: readonly MediaFaceRow[],
): Promise<SightingCropRow[]> {
  const sightings = faces.filter((f): f is MediaFaceRow & { subjectId: SubjectId } => f.subjectId !== null);
  if (!sightings.length) return [];
  const keys = await deps.keyring.getMany(ex, [...new Set(sightings.map((s) => s.subjectId))]);
  const mine = sightings.filter((s) => keys.has(s.subjectId));
  let jpegs: Buffer[];
  try {
    jpegs = await ownFaceCrops(
      photo,
      mine.map((s) => ({ own: s.box, others: faces.filter((f) => f.id !== s.id).map((f) => f.box) })),
    );
  } catch {
    // A photo the engine read but the image library cannot (a test analyzer's stand-in bytes): no
    // crop now; the export makes it from the photo as it did before crops were kept.
    return [];
  }
  return mine.map((s, i) => ({
    faceId: s.id,
    subjectId: s.subjectId,
    sealed: deps.vault.sealCrop(keys.get(s.subjectId)!, s.id, s.subjectId, jpegs[i]!),
  }));
}

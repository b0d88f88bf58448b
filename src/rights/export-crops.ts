import type { Store } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import type { Box } from '../face/geometry.js';
import { mediaRepository } from '../gallery/media.repository.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { IngestService } from '../gallery/ingest.service.js';
import { ownFaceCrop } from '../gallery/redact.js';
import type { ZipEntry } from './zip-stream.js';

export interface SightingToCrop {
  readonly id: string;
  readonly mediaId: string;
  readonly box: Box;
  /** The file name the manifest gives its crop. */
  readonly image: string;
}

export interface CropDeps {
  readonly store: Store;
  readonly vault: TemplateVault;
  readonly ingest: Pick<IngestService, 'photo'>;
}

const BATCH = 256;
/** Crops made now (sightings ingested before crops were kept) run this many at a time on sharp's threads. */
const MAKERS = 4;

/**
 * A subject's sighting crops in the manifest's order, in batches (the next batch is read
 * while this one is written). Each is the crop sealed at ingestion, opened with the subject's key;
 * a sighting without one (ingested before schema version 14) gets it made from the photo now, as
 * the export always did, so the answer still has every sighting.
 */
export async function* sightingCrops(
  deps: CropDeps,
  subjectId: SubjectId,
  key: Buffer | null,
  list: readonly SightingToCrop[],
): AsyncGenerator<ZipEntry[]> {
  const batch = (from: number) => cropBatch(deps, subjectId, key, list.slice(from, from + BATCH));
  let next = list.length ? batch(0) : null;
  for (let from = 0; next; from += BATCH) {
    const current = next;
    next = from + BATCH < list.length ? batch(from + BATCH) : null;
    // Its failure is reported when it is awaited, not as an unhandled rejection meanwhile.
    next?.catch(() => undefined);
    yield await current;
  }
}

async function cropBatch(
  deps: CropDeps,
  subjectId: SubjectId,
  key: Buffer | null,
  slice: readonly SightingToCrop[],
): Promise<ZipEntry[]> {
  const sealed = await mediaRepository.cropsOf(
    deps.store.db,
    subjectId,
    slice.map((s) => s.id),
  );
  const out: (Uint8Array | null)[] = slice.map((s) => {
    const c = sealed.get(s.id);
    return c && key ? deps.vault.openCrop(key, s.id, subjectId, c) : null;
  });
  const missing = out.flatMap((c, i) => (c ? [] : [i]));
  let at = 0;
  const maker = async () => {
    while (at < missing.length) {
      const i = missing[at++]!;
      const s = slice[i]!;
      const others = (await mediaRepository.faces(deps.store.db, s.mediaId)).filter((f) => f.id !== s.id);
      out[i] = await ownFaceCrop(
        await deps.ingest.photo(s.mediaId),
        s.box,
        others.map((f) => f.box),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(MAKERS, missing.length) }, maker));
  return slice.map((s, i) => ({ name: s.image, bytes: out[i]! }));
}

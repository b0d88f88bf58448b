import type { FaceAnalyzer } from '../face/analyzer.js';
import type { ApiKeyService } from '../auth/api-keys.js';
import type { GalleryService } from '../gallery/gallery.service.js';
import type { SearchService } from '../gallery/search.service.js';
import type { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import type { CoreDeps } from '../service-deps.js';
import { CompreFaceKeys } from './compreface-keys.js';
import { CompreFaceCollection, type PhotoSource } from './collection.service.js';
import { CompreFaceRecognition } from './recognition.service.js';

/** The CompreFace-compatible API's services, wired once (src/app/veil.ts). */
export function openCompreFace(
  deps: CoreDeps & {
    apiKeys: ApiKeyService;
    gallery: GalleryService;
    search: SearchService;
    subjects: Partial<PhotoSource> | object;
    lifecycle: FaceDataLifecycle;
    engine: Pick<FaceAnalyzer, 'modelId'>;
  },
) {
  const keys = new CompreFaceKeys(deps);
  return {
    keys,
    collection: new CompreFaceCollection({ ...deps, keys }),
    recognition: new CompreFaceRecognition({ ...deps, keys, model: () => deps.engine.modelId }),
  };
}

export type CompreFaceServices = ReturnType<typeof openCompreFace>;

import { newId, type PurposeId } from '../src/ids.js';
import { subjectRepository } from '../src/gallery/subject.repository.js';
import type { Veil } from '../src/app/veil.js';
import { actors } from '../src/auth/actor.js';

/** The consent purpose every bench fills: the same notice, so runs compare. */
export function benchPurpose(v: Veil, key: string) {
  return v.purposes.create(actors.system('bench'), {
    key,
    name: key[0]!.toUpperCase() + key.slice(1),
    description: 'Find the photos of you taken at our events.',
    lawfulBasis: 'consent',
  });
}

/**
 * Fills a purpose's gallery with random unit vectors, stored exactly as enrollment stores them
 * (sealed under a fresh per-subject key), so a server's start-up index rebuild and search cost
 * what they would with real faces, without running the engine on thousands of photos.
 */
export async function seedRandomGallery(v: Veil, purposeId: PurposeId, n: number): Promise<void> {
  const now = new Date().toISOString();
  for (let i = 0; i < n; i += 1000) {
    await v.store.transaction(async (tx) => {
      for (let j = i; j < Math.min(n, i + 1000); j++) {
        const sid = newId.subject();
        await subjectRepository.insert(tx, { id: sid, region: null, contactHash: null, contactSealed: null, at: now });
        const key = await v.keyring.create(tx, sid, now);
        const tid = newId.template();
        const x = new Float32Array(512).map(() => Math.random() - 0.5);
        const norm = Math.hypot(...x);
        await subjectRepository.insertTemplate(
          tx,
          {
            id: tid,
            subjectId: sid,
            purposeId,
            model: v.engine.modelId,
            quality: {},
            sourceSha256: '0'.repeat(64),
            sealed: v.vault.sealTemplate(
              key,
              tid,
              sid,
              purposeId,
              x.map((y) => y / norm),
            ),
            imagePath: null,
            createdAt: now,
          },
          512,
        );
        await subjectRepository.upsertEnrollment(tx, {
          subjectId: sid,
          purposeId,
          consentId: null,
          sourceReference: 'bench',
          at: now,
        });
      }
    });
  }
}

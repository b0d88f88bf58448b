import { createHash } from 'node:crypto';
import type { Tx } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import type { SearchId, SubjectId } from '../ids.js';
import type { Purpose } from '../privacy/purpose.js';
import type { CoreDeps } from '../service-deps.js';
import { searchRepository } from './search.repository.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** What a search leaves behind: who searched, why, under which threshold, and who each face returned. */
export interface SearchAccount {
  searchId: string;
  kind: 'identify' | 'verify';
  purpose: Purpose;
  actor: Actor;
  why: { caseRef: string | null; justification: string | null };
  /** Only its SHA-256 is kept. */
  probe: Uint8Array;
  k: number;
  threshold: number;
  /** Identify: matchable templates searched and the FPIR the threshold was derived from. */
  gallerySize?: number;
  fpir?: number;
  /** The box of each face searched (identify). */
  faces?: readonly { x: number; y: number; width: number; height: number }[];
  /** `face` and `rank` say which face returned the subject and where it ranked for that face. */
  returned: readonly { subjectId: SubjectId; similarity: number; face?: number; rank?: number }[];
  /** Identify: people who must confirm each match before it counts (the purpose's rule now). */
  confirmations?: number;
}

/** The search row, its results and the audit entry, in the caller's transaction (Art. 15(1)(c), 19). */
export async function recordSearch(deps: Pick<CoreDeps, 'audit' | 'clock'>, tx: Tx, a: SearchAccount): Promise<void> {
  await searchRepository.insert(tx, {
    id: a.searchId as SearchId,
    kind: a.kind,
    purposeId: a.purpose.id,
    actorKind: a.actor.kind,
    actorId: a.actor.id,
    caseRef: a.why.caseRef,
    justification: a.why.justification,
    probeSha256: sha256(a.probe),
    k: a.k,
    threshold: a.threshold,
    gallerySize: a.gallerySize,
    fpir: a.fpir,
    at: deps.clock.now().toISOString(),
    faces: a.faces,
    results: a.returned.map((c) => ({ subjectId: c.subjectId, similarity: c.similarity, face: c.face, rank: c.rank })),
    confirmations: a.confirmations,
  });
  await deps.audit.append(tx, {
    actor: a.actor,
    action: a.kind === 'identify' ? 'search.performed' : 'verify.performed',
    subjectIds: [...new Set(a.returned.map((c) => c.subjectId))],
    purposeId: a.purpose.id,
    detail: {
      searchId: a.searchId,
      caseRef: a.why.caseRef,
      justification: a.why.justification,
      results: a.returned.length,
      ...(a.faces ? { faces: a.faces.length } : {}),
      threshold: a.threshold,
      ...(a.gallerySize === undefined ? {} : { gallerySize: a.gallerySize, fpir: a.fpir }),
      ...(a.confirmations ? { confirmationsRequired: a.confirmations } : {}),
    },
  });
}

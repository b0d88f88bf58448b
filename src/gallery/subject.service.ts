import type { Store } from '../store/store.js';
import type { Actor } from '../auth/actor.js';
import { inScope, type AccessPolicy } from '../auth/policy.js';
import type { SubjectId } from '../ids.js';
import { consentRepository } from '../privacy/consent.repository.js';
import { summary, type ConsentSummary } from '../privacy/consent.service.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { mediaRepository } from './media.repository.js';
import type { SubjectState } from './subject.js';
import type { FaceDataLifecycle } from './face-data.lifecycle.js';

export interface SubjectView {
  readonly id: string;
  readonly state: SubjectState;
  readonly region: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly templates: readonly {
    id: string;
    purposeId: string;
    model: string;
    quality: Record<string, number>;
    createdAt: string;
  }[];
  readonly consents: readonly ConsentSummary[];
  readonly sightings: number;
}

/**
 * A subject as an operator or DPO may see them: only what lies under the purposes their key is
 * bound to. A subject shared by several purposes shows each key its own purposes' data.
 */
export class SubjectService {
  constructor(private readonly deps: { store: Store; policy: AccessPolicy; lifecycle: FaceDataLifecycle }) {}

  async get(actor: Actor, id: string): Promise<SubjectView> {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    const db = this.deps.store.db;
    const sid = scope.subject.id as SubjectId;
    const templates = (await subjects.templates(db, { subjectId: sid })).filter((t) => inScope(scope, t.purposeId));
    const consents = (await consentRepository.forSubject(db, sid)).filter((c) => inScope(scope, c.purposeId));
    const s = scope.subject;
    return {
      id: s.id,
      state: s.state,
      region: s.region,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      templates: templates.map((t) => ({
        id: t.id,
        purposeId: t.purposeId,
        model: t.model,
        quality: t.quality,
        createdAt: t.createdAt,
      })),
      consents: consents.map(summary),
      sightings: (await this.sightingsIn(scope.subject.id as SubjectId, scope)).length,
    };
  }

  /** Photos the subject was matched in, under the actor's purposes. */
  async sightings(actor: Actor, id: string) {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    return this.sightingsIn(scope.subject.id as SubjectId, scope);
  }

  /** Art. 18 restriction, or its lifting, by the DPO. */
  async setRestricted(
    actor: Actor,
    id: string,
    restricted: boolean,
    reason: string,
  ): Promise<{ subjectId: string; restricted: boolean }> {
    const scope = await this.deps.policy.subject(actor, 'subjects.restrict', id);
    await this.deps.lifecycle.setRestricted(scope.subject.id as SubjectId, restricted, actor, reason);
    return { subjectId: scope.subject.id, restricted };
  }

  private async sightingsIn(id: SubjectId, scope: Parameters<typeof inScope>[0]) {
    return (await mediaRepository.sightingsOf(this.deps.store.db, id)).filter((s) => inScope(scope, s.purposeId));
  }
}

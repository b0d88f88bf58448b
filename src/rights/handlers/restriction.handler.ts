import type { Store } from '../../store/store.js';
import type { FaceDataLifecycle } from '../../gallery/face-data.lifecycle.js';
import { subjectRepository as subjects } from '../../gallery/subject.repository.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Restriction (Art. 18) and its lifting (18(3)). */
export class RestrictionHandler implements RightHandler {
  readonly kinds = ['restriction', 'lift-restriction'] as const;

  constructor(private readonly deps: { store: Store; lifecycle: FaceDataLifecycle }) {}

  async fulfil({ request: r, targets, actor }: HandlerContext): Promise<HandlerResult> {
    const restrict = r.kind === 'restriction';
    let changed = 0;
    for (const s of targets) {
      const subj = await subjects.get(this.deps.store.db, s);
      if (
        subj &&
        subj.state !== 'erased' &&
        (await this.deps.lifecycle.setRestricted(s, restrict, actor, `request ${r.id}`))
      )
        changed++;
    }
    return { outcome: { subjects: targets.length, changed, restricted: restrict } };
  }
}

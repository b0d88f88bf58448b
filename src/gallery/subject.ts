import type { SubjectId } from '../ids.js';

/** active: matchable. restricted (Art. 18): kept, never matched, never returned. erased: tombstone. */
export type SubjectState = 'active' | 'restricted' | 'erased';

export interface Subject {
  readonly id: SubjectId;
  readonly state: SubjectState;
  readonly region: string | null;
  readonly hasContact: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

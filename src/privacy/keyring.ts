import type { Executor } from '../store/store.js';
import type { SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { MasterKey, newDataKey } from './keys.js';

/** Per-subject data keys, stored wrapped under the master key. Destroying one is crypto-shredding. */
export class KeyRing {
  constructor(readonly master: MasterKey) {}

  async create(ex: Executor, subjectId: SubjectId, at: string): Promise<Buffer> {
    const key = newDataKey();
    await ex
      .insertInto('subject_keys')
      .values({ subject_id: subjectId, wrapped_key: this.master.wrap(key, subjectId), created_at: at })
      .execute();
    return key;
  }

  async get(ex: Executor, subjectId: SubjectId): Promise<Buffer> {
    const r = await ex
      .selectFrom('subject_keys')
      .select('wrapped_key')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    if (!r) throw new VeilError('KEY_DESTROYED', `The data key of subject ${subjectId} has been destroyed.`);
    return this.master.unwrap(r.wrapped_key, subjectId);
  }

  /** Many keys in few queries (index rebuild at start); destroyed keys are simply absent. */
  async getMany(ex: Executor, subjectIds: readonly SubjectId[]): Promise<Map<SubjectId, Buffer>> {
    const out = new Map<SubjectId, Buffer>();
    const ids = [...new Set(subjectIds)];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await ex
        .selectFrom('subject_keys')
        .select(['subject_id', 'wrapped_key'])
        .where('subject_id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const r of rows) out.set(r.subject_id as SubjectId, this.master.unwrap(r.wrapped_key, r.subject_id));
    }
    return out;
  }

  async getOrCreate(ex: Executor, subjectId: SubjectId, at: string): Promise<Buffer> {
    const r = await ex
      .selectFrom('subject_keys')
      .select('wrapped_key')
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    return r ? this.master.unwrap(r.wrapped_key, subjectId) : this.create(ex, subjectId, at);
  }

  async destroy(ex: Executor, subjectId: SubjectId): Promise<boolean> {
    const r = await ex.deleteFrom('subject_keys').where('subject_id', '=', subjectId).executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}

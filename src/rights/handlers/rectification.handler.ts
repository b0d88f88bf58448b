import { z } from 'zod';
import type { Store } from '../../store/store.js';
import type { AuditLog } from '../../audit/audit.log.js';
import type { SubjectId, TemplateId } from '../../ids.js';
import { VeilError } from '../../errors.js';
import { contactHash } from '../../privacy/keys.js';
import type { KeyRing } from '../../privacy/keyring.js';
import { subjectRepository as subjects } from '../../gallery/subject.repository.js';
import type { TemplateVault } from '../../gallery/template-vault.js';
import type { FaceDataLifecycle } from '../../gallery/face-data.lifecycle.js';
import type { HandlerContext, HandlerResult, RightHandler } from './handler.js';

/** Rectification (Art. 16): a new contact address, templates that are not the person's removed. */
export class RectificationHandler implements RightHandler {
  readonly kinds = ['rectification'] as const;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      keyring: KeyRing;
      vault: TemplateVault;
      lifecycle: FaceDataLifecycle;
    },
  ) {}

  async fulfil({ request: r, targets, actor, opts, now }: HandlerContext): Promise<HandlerResult> {
    const db = this.deps.store.db;
    if (opts.newEmail && !z.string().email().safeParse(opts.newEmail).success) {
      throw new VeilError('INVALID_INPUT', 'newEmail is not an email address.');
    }
    const bySubject = new Map<SubjectId, TemplateId[]>();
    for (const tid of opts.removeTemplateIds ?? []) {
      const t = await subjects.template(db, tid);
      if (!t || !targets.includes(t.subjectId))
        throw new VeilError('NOT_FOUND', `Template ${tid} is not one of this person's.`);
      bySubject.set(t.subjectId, [...(bySubject.get(t.subjectId) ?? []), t.id]);
    }
    let removed = 0;
    for (const [s, ids] of bySubject) {
      removed += await this.deps.lifecycle.removeTemplates(s, ids, actor, { requestId: r.id, reason: 'rectification' });
    }
    if (opts.newEmail) {
      for (const s of targets) {
        // An erased subject has no key and gets none back: a new address would make them linkable again.
        if ((await subjects.get(db, s))?.state === 'erased') continue;
        await this.deps.store.transaction(async (tx) => {
          const key = await this.deps.keyring.getOrCreate(tx, s, now);
          await subjects.setContact(
            tx,
            s,
            contactHash(this.deps.keyring.master, opts.newEmail!),
            this.deps.vault.sealContact(key, s, opts.newEmail!),
            now,
          );
          await this.deps.audit.append(tx, {
            actor,
            action: 'subject.rectified',
            subjectIds: [s],
            detail: { requestId: r.id, field: 'contact' },
          });
        });
      }
    }
    return { outcome: { templatesRemoved: removed, contactUpdated: Boolean(opts.newEmail) } };
  }
}

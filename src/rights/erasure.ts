import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import type { SubjectId } from '../ids.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { searchRepository } from '../gallery/search.repository.js';
import { touchIndex } from '../vector/index-feed.js';
import { signCertificate, type ErasedSubject, type ErasureCertificate, type ProvenEntry } from './certificate.js';

/**
 * Complete erasure of subjects: index entries (now, before the transaction), templates, consents,
 * enrollments, the links of sightings, search results, derived artifacts, kept photos, and finally
 * the subject's data key (crypto-shredding), leaving a tombstone with no personal data. One
 * transaction per subject, with its audit entries; files go after commit; the certificate proves it.
 */
export class Eraser {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      index: GalleryIndex;
      vault: TemplateVault;
      dataDir: string;
      signingKey: AuditSigningKey;
      controller: string;
    },
  ) {}

  async erase(subjectIds: readonly SubjectId[], actor: Actor, requestId: string | null): Promise<ErasureCertificate> {
    const { store, audit, clock } = this.deps;
    const done: ErasedSubject[] = [];
    const proven: number[] = [];
    const recipients = new Map<string, { actor: string; purposeId: string; disclosures: number; lastAt: string }>();
    for (const id of [...new Set(subjectIds)]) {
      const s = await subjects.get(store.db, id);
      if (!s) continue;
      if (s.state === 'erased') {
        done.push({
          subjectId: id,
          erasedAt: s.updatedAt,
          alreadyErased: true,
          templates: 0,
          consents: 0,
          sightingsUnlinked: 0,
          searchResults: 0,
          files: 0,
          artifacts: 0,
          keyShredded: false,
        });
        continue;
      }
      // Fail closed: out of every live index before anything else.
      this.deps.index.removeSubject(id);
      const now = clock.now().toISOString();
      const r = await store
        .transaction(async (tx) => {
          for (const d of await searchRepository.disclosuresOf(tx, id)) {
            const k = `${d.actor_kind}:${d.actor_id}|${d.purpose_id}`;
            const cur = recipients.get(k) ?? {
              actor: `${d.actor_kind}:${d.actor_id}`,
              purposeId: d.purpose_id,
              disclosures: 0,
              lastAt: d.at,
            };
            recipients.set(k, {
              ...cur,
              disclosures: cur.disclosures + 1,
              lastAt: d.at > cur.lastAt ? d.at : cur.lastAt,
            });
          }
          const templates = await subjects.deleteTemplates(tx, { subjectId: id });
          const consents = Number(
            (await tx.deleteFrom('consents').where('subject_id', '=', id).executeTakeFirst()).numDeletedRows,
          );
          await tx.deleteFrom('enrollments').where('subject_id', '=', id).execute();
          const sightings = Number(
            (
              await tx
                .updateTable('media_faces')
                .set({ subject_id: null, similarity: null })
                .where('subject_id', '=', id)
                .executeTakeFirst()
            ).numUpdatedRows,
          );
          const results = Number(
            (await tx.deleteFrom('search_results').where('subject_id', '=', id).executeTakeFirst()).numDeletedRows,
          );
          const artifacts = await tx
            .selectFrom('artifacts')
            .select(['id', 'path'])
            .where('subject_ids', 'like', `% ${id} %`)
            .execute();
          if (artifacts.length)
            await tx
              .deleteFrom('artifacts')
              .where(
                'id',
                'in',
                artifacts.map((a) => a.id),
              )
              .execute();
          await tx
            .updateTable('rights_requests')
            .set({ pending_selfie: null })
            .where('matched_subjects', 'like', `% ${id} %`)
            .execute();
          await subjects.setContact(tx, id, null, null, now);
          await tx.updateTable('subjects').set({ region: null }).where('id', '=', id).execute();
          await subjects.setState(tx, id, 'erased', now);
          await touchIndex(store, tx, id, now);
          const erased = await audit.append(tx, {
            actor,
            action: 'subject.erased',
            subjectIds: [id],
            detail: {
              requestId,
              templates: templates.length,
              consents,
              sightingsUnlinked: sightings,
              searchResults: results,
              artifacts: artifacts.length,
            },
          });
          const shredded = await tx.deleteFrom('subject_keys').where('subject_id', '=', id).executeTakeFirst();
          const shred = await audit.append(tx, {
            actor,
            action: 'key.shredded',
            subjectIds: [id],
            detail: { requestId, keyDestroyed: Number(shredded.numDeletedRows) > 0 },
          });
          return {
            templates,
            consents,
            sightings,
            results,
            artifacts,
            erased: erased.seq,
            shred: shred.seq,
            keyShredded: Number(shredded.numDeletedRows) > 0,
          };
        })
        .catch(async (e: unknown) => {
          // Nothing was erased (the transaction rolled back, e.g. the database connection died):
          // put the subject back so this index agrees with the store and every other process's.
          for (const t of await this.deps.vault.matchable(store.db, { subjectId: id }).catch(() => []))
            this.deps.index.add(t);
          throw e;
        });
      // Files after commit: once the key is gone they are unreadable anyway; this removes the bytes too.
      this.deps.vault.deleteFiles(r.templates.map((t) => t.imagePath));
      rmSync(this.deps.vault.subjectDir(id), { recursive: true, force: true });
      for (const a of r.artifacts) if (a.path) rmSync(join(this.deps.dataDir, a.path), { force: true });
      proven.push(r.erased, r.shred);
      done.push({
        subjectId: id,
        erasedAt: now,
        alreadyErased: false,
        templates: r.templates.length,
        consents: r.consents,
        sightingsUnlinked: r.sightings,
        searchResults: r.results,
        files: r.templates.filter((t) => t.imagePath).length,
        artifacts: r.artifacts.length,
        keyShredded: r.keyShredded,
      });
    }
    const head = await store.transaction((tx) => audit.signHead(tx));
    const entries: ProvenEntry[] = [];
    for (const seq of proven) {
      const p = await audit.inclusionProof(store.db, seq, head);
      entries.push({ seq, action: p.entry.action, leafHash: p.leafHash, proof: p.proof });
    }
    return signCertificate(
      {
        type: 'veil.erasure-certificate.v1',
        requestId,
        issuedAt: clock.now().toISOString(),
        controller: this.deps.controller,
        subjects: done,
        recipientsToNotify: [...recipients.values()],
        audit: { head, entries },
        keyId: this.deps.signingKey.keyId,
      },
      this.deps.signingKey.privateKey,
    );
  }
}

import { rmSync } from 'node:fs';
import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { AuditSigningKey } from '../audit/signing-key.js';
import type { Actor } from '../auth/actor.js';
import type { SubjectId } from '../ids.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository as consents } from '../privacy/consent.repository.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { aliasRepository as aliases } from '../compreface/alias.repository.js';
import { mediaRepository as media } from './media.repository.js';
import { searchRepository as searches } from './search.repository.js';
import { reembedRunsRepository as reembedRuns } from './reembed-runs.repository.js';
import { artifactRepository as artifacts } from '../rights/artifact.repository.js';
import { requestRepository as requests } from '../rights/request.repository.js';
import type { SelfieVault } from '../rights/selfie-vault.js';
import type { TemplateVault } from './template-vault.js';
import {
  signCertificate,
  type ErasedSubject,
  type ErasureCertificate,
  type ProvenEntry,
} from '../rights/certificate.js';

export interface EraserDeps {
  readonly store: Store;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly vault: TemplateVault;
  readonly keyring: KeyRing;
  readonly signingKey: AuditSigningKey;
  readonly controller: string;
  /** Selfie templates kept with rights requests, each under its own key. */
  readonly selfies: Pick<SelfieVault, 'forget'>;
  /** Called after a subject's erasure committed, with the contact it had (outbox mail to it is purged). */
  readonly afterErase?: (subjectId: SubjectId, contact: string | null) => Promise<void>;
}

type Change = <T extends { files: readonly (string | null)[] }>(
  subjectIds: readonly SubjectId[],
  work: (tx: Tx) => Promise<T>,
) => Promise<T>;

type Recipient = { actor: string; purposeId: string; disclosures: number; lastAt: string };

/**
 * Complete erasure of subjects: templates, consents, enrollments, the links of sightings, search
 * results, derived artifacts, kept photos, and finally the subject's data key (crypto-shredding),
 * leaving a tombstone with no personal data. One transaction per subject (through the lifecycle's
 * change order), with its audit entries; the signed certificate carries their inclusion proofs.
 */
export class SubjectEraser {
  constructor(
    private readonly deps: EraserDeps,
    private readonly change: Change,
  ) {}

  async erase(subjectIds: readonly SubjectId[], actor: Actor, requestId: string | null): Promise<ErasureCertificate> {
    const { store, audit, clock } = this.deps;
    const done: ErasedSubject[] = [];
    const proven: number[] = [];
    const recipients = new Map<string, Recipient>();
    for (const id of [...new Set(subjectIds)]) {
      const s = await subjects.get(store.db, id);
      if (!s) continue;
      if (s.state === 'erased') {
        done.push({ ...NOTHING, subjectId: id, erasedAt: s.updatedAt, alreadyErased: true });
        continue;
      }
      const contact = await this.contactOf(id, s.contactSealed);
      const now = clock.now().toISOString();
      const r = await this.change([id], async (tx) => {
        for (const d of await searches.disclosuresOf(tx, id)) {
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
        const consentCount = await consents.deleteForSubject(tx, id);
        await subjects.deleteEnrollments(tx, id);
        const names = await aliases.removeForSubject(tx, id);
        const sightings = await media.unlinkSubject(tx, id);
        const results = await searches.deleteResultsOf(tx, id);
        const derived = await artifacts.derivedFrom(tx, id);
        await artifacts.deleteMany(
          tx,
          derived.map((a) => a.id),
        );
        const selfies = await requests.selfiesOf(tx, id);
        await requests.clearSelfies(tx, selfies);
        await this.deps.selfies.forget(tx, selfies);
        await subjects.tombstone(tx, id, now);
        const erased = await audit.append(tx, {
          actor,
          action: 'subject.erased',
          subjectIds: [id],
          detail: {
            requestId,
            templates: templates.length,
            consents: consentCount,
            sightingsUnlinked: sightings,
            searchResults: results,
            artifacts: derived.length,
            ...(names ? { aliases: names } : {}),
          },
        });
        // After the audit append, whose lock orders this against a re-embedding run's end (reembed-runs.service.ts).
        await reembedRuns.forgetSubject(tx, id);
        const keyShredded = await this.deps.keyring.destroy(tx, id);
        const shred = await audit.append(tx, {
          actor,
          action: 'key.shredded',
          subjectIds: [id],
          detail: { requestId, keyDestroyed: keyShredded },
        });
        return {
          files: [...templates.map((t) => t.imagePath), ...derived.map((a) => a.path)],
          kept: templates.filter((t) => t.imagePath).length,
          templates: templates.length,
          consentCount,
          sightings,
          results,
          artifacts: derived.length,
          seqs: [erased.seq, shred.seq],
          keyShredded,
        };
      });
      // Committed: now the key's slot is overwritten (a crash before this is finished at the next start).
      await this.deps.keyring.shred(store);
      // Once the key is gone the files are unreadable anyway; this removes the bytes too.
      rmSync(this.deps.vault.subjectDir(id), { recursive: true, force: true });
      await this.deps.afterErase?.(id, contact);
      proven.push(...r.seqs);
      done.push({
        subjectId: id,
        erasedAt: now,
        alreadyErased: false,
        templates: r.templates,
        consents: r.consentCount,
        sightingsUnlinked: r.sightings,
        searchResults: r.results,
        files: r.kept,
        artifacts: r.artifacts,
        keyShredded: r.keyShredded,
      });
    }
    const certificate = await this.certificate(done, proven, [...recipients.values()], requestId);
    // What the erasures deleted leaves the database's files too (its WAL), once per call.
    if (done.some((d) => !d.alreadyErased)) await store.scrub();
    return certificate;
  }

  private async contactOf(id: SubjectId, sealed: Buffer | null): Promise<string | null> {
    if (!sealed) return null;
    try {
      return this.deps.vault.openContact(await this.deps.keyring.get(this.deps.store.db, id), id, sealed);
    } catch {
      return null;
    }
  }

  private async certificate(
    done: ErasedSubject[],
    proven: number[],
    recipientsToNotify: Recipient[],
    requestId: string | null,
  ): Promise<ErasureCertificate> {
    const { store, audit, clock } = this.deps;
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
        recipientsToNotify,
        audit: { head, entries },
        keyId: this.deps.signingKey.keyId,
      },
      this.deps.signingKey.privateKey,
    );
  }
}

const NOTHING: Omit<ErasedSubject, 'subjectId' | 'erasedAt' | 'alreadyErased'> = {
  templates: 0,
  consents: 0,
  sightingsUnlinked: 0,
  searchResults: 0,
  files: 0,
  artifacts: 0,
  keyShredded: false,
};

import { createHash, randomBytes, randomInt, timingSafeEqual } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Store, Tx } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import type { Actor } from '../audit/entry.js';
import type { FaceAnalyzer } from '../face/analyzer.js';
import { cosine } from '../face/embedder.js';
import { DEFAULT_CALIBRATION } from '../face/calibration.default.js';
import { newId, type SubjectId, type TemplateId } from '../ids.js';
import { VeilError, isVeilError } from '../errors.js';
import { bytesVector, contactHash, open as unseal, seal, vectorBytes, type MasterKey } from '../privacy/keys.js';
import type { KeyRing } from '../privacy/keyring.js';
import type { ConsentService } from '../privacy/consent.service.js';
import { consentRepository } from '../privacy/consent.repository.js';
import type { GalleryIndex } from '../vector/gallery-index.js';
import type { GalleryService } from '../gallery/gallery.service.js';
import { largestFace } from '../gallery/gallery.service.js';
import type { TemplateVault } from '../gallery/template-vault.js';
import type { SuppressionList } from '../gallery/suppression.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import {
  CODE_MAX_ATTEMPTS,
  CODE_TTL_MS,
  OPEN_STATES,
  REQUEST_KINDS,
  VERIFY_WINDOW_DAYS,
  addCalendarMonths,
  canMove,
  dueDate,
  effectiveDue,
  isOverdue,
  type RequestKind,
  type RequestState,
  type RightsRequest,
} from './request.js';
import { requestRepository as repo } from './request.repository.js';
import type { Mailer } from './mailer.js';
import { closedMail, codeMail, extensionMail } from './messages.js';
import type { Eraser } from './erasure.js';
import { buildAccessPackage, zipPackage, type ExportDeps } from './access-export.js';
import type { ErasureCertificate } from './certificate.js';
import { touchIndex } from '../vector/index-feed.js';

export const SubmitSchema = z
  .object({
    kind: z.enum(Object.keys(REQUEST_KINDS) as [RequestKind, ...RequestKind[]]),
    email: z.string().email().max(320),
    subjectId: z.string().max(64).optional(),
    consentReceiptId: z.string().max(64).optional(),
    details: z.string().max(5000).default(''),
    language: z.enum(['en', 'fr']).default('en'),
  })
  .strict();
export type SubmitInput = z.input<typeof SubmitSchema>;

export interface FulfilOptions {
  /** Rectification: the new contact email. */
  readonly newEmail?: string;
  /** Rectification: templates to remove (e.g. a photo of someone else). */
  readonly removeTemplateIds?: readonly string[];
  /** Erasure: keep a do-not-enroll template, if the person asked for it. */
  readonly suppress?: boolean;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');
const sameHex = (a: string, b: string) =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
const publicActor: Actor = { kind: 'public', id: 'requester' };

/**
 * Data-subject rights on the legal clock. Identity is proven proportionately: an emailed one-time
 * code always, and a selfie matched at the strict threshold to link face data. Nothing is disclosed
 * before verification, and a selfie is never stored (only, for an objection, its template sealed
 * until the do-not-enroll entry is made).
 */
export class RightsService {
  private readonly rightsKey: Buffer;
  private readonly exportKey: Buffer;

  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      engine: FaceAnalyzer;
      master: MasterKey;
      keyring: KeyRing;
      index: GalleryIndex;
      vault: TemplateVault;
      gallery: GalleryService;
      consents: ConsentService;
      suppression: SuppressionList;
      eraser: Eraser;
      mailer: Mailer;
      exportDeps: ExportDeps;
      dataDir: string;
      strictThreshold?: number;
    },
  ) {
    this.rightsKey = deps.master.derive('rights');
    this.exportKey = deps.master.derive('exports');
  }

  private now(): Date {
    return this.deps.clock.now();
  }

  private async move(
    tx: Tx,
    r: { id: string; state: RequestState },
    to: RequestState,
    actor: Actor,
    note: string | null,
    detail: Record<string, string | number | boolean | null> = {},
    subjectIds: readonly string[] = [],
  ): Promise<void> {
    if (!canMove(r.state, to))
      throw new VeilError('INVALID_STATE', `A request in state ${r.state} cannot become ${to}.`);
    const at = this.now().toISOString();
    await repo.update(tx, r.id, {
      state: to,
      ...(['fulfilled', 'denied', 'expired', 'withdrawn'].includes(to) ? { closed_at: at } : {}),
    });
    await repo.addEvent(tx, r.id, to, at, `${actor.kind}:${actor.id}`, note);
    const action = (
      {
        identity_pending: 'rights.request.received',
        verified: 'rights.request.verified',
        in_progress: 'rights.request.verified',
        fulfilled: 'rights.request.fulfilled',
        denied: 'rights.request.denied',
        expired: 'rights.request.expired',
        withdrawn: 'rights.request.withdrawn',
        received: 'rights.request.received',
      } as const
    )[to];
    await this.deps.audit.append(tx, { actor, action, subjectIds, detail: { requestId: r.id, state: to, ...detail } });
  }

  async submit(raw: SubmitInput): Promise<{ requestId: string; dueAt: string; state: RequestState }> {
    const parsed = SubmitSchema.safeParse(raw);
    if (!parsed.success)
      throw new VeilError(
        'INVALID_INPUT',
        parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
      );
    const input = parsed.data;
    const id = newId.other('req');
    const received = this.now();
    const due = dueDate(received).toISOString();
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, {
        id,
        kind: input.kind,
        contactHash: contactHash(this.deps.master, input.email),
        contactSealed: seal(this.rightsKey, Buffer.from(input.email.trim()), `veil.request-contact:${id}`),
        language: input.language,
        claimedSubjectId: input.subjectId ?? null,
        claimedConsentId: input.consentReceiptId ?? null,
        details: input.details,
        receivedAt: received.toISOString(),
        dueAt: due,
      });
      await repo.addEvent(tx, id, 'received', received.toISOString(), 'public:requester', null);
      await this.deps.audit.append(tx, {
        actor: publicActor,
        action: 'rights.request.received',
        detail: {
          requestId: id,
          kind: input.kind,
          article: REQUEST_KINDS[input.kind],
          dueAt: due,
          contactHash: contactHash(this.deps.master, input.email),
        },
      });
      await repo.update(tx, id, {
        code_hash: this.codeHash(id, code),
        code_expires_at: new Date(received.getTime() + CODE_TTL_MS).toISOString(),
        code_attempts: 0,
      });
      await this.move(
        tx,
        { id, state: 'received' },
        'identity_pending',
        { kind: 'system', id: 'rights' },
        'verification code sent',
      );
    });
    const m = codeMail(input.language, input.kind, code, id, due);
    await this.deps.mailer.send({ to: input.email, ...m });
    return { requestId: id, dueAt: due, state: 'identity_pending' };
  }

  private codeHash(id: string, code: string): string {
    return createHash('sha256').update(this.rightsKey).update(`${id}:${code}`).digest('hex');
  }

  /** A fresh code for a request still waiting for verification (the old one stops working). */
  async resendCode(requestId: string): Promise<void> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    if (row.state !== 'identity_pending')
      throw new VeilError('INVALID_STATE', 'This request is not waiting for verification.');
    if (row.code_attempts >= CODE_MAX_ATTEMPTS)
      throw new VeilError('REQUEST_LOCKED', 'Too many wrong codes: submit a new request.');
    const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
    await repo.update(this.deps.store.db, requestId, {
      code_hash: this.codeHash(requestId, code),
      code_expires_at: new Date(this.now().getTime() + CODE_TTL_MS).toISOString(),
    });
    const email = unseal(this.rightsKey, row.contact_sealed, `veil.request-contact:${requestId}`).toString('utf8');
    await this.deps.mailer.send({
      to: email,
      ...codeMail(row.language === 'fr' ? 'fr' : 'en', row.kind as RequestKind, code, requestId, row.due_at),
    });
  }

  /**
   * Checks the emailed code (limited attempts), then links face data: by the proven email, and by
   * selfies matched at the strict threshold. Returns a download token for the results.
   */
  async verify(
    requestId: string,
    input: { code: string; selfies?: readonly Uint8Array[] },
  ): Promise<{ state: RequestState; subjectsFound: number; downloadToken: string }> {
    const db = this.deps.store.db;
    const row = await repo.row(db, requestId);
    if (!row) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    if (row.state !== 'identity_pending')
      throw new VeilError('INVALID_STATE', `This request is ${row.state}, not waiting for verification.`);
    if (row.code_attempts >= CODE_MAX_ATTEMPTS)
      throw new VeilError('REQUEST_LOCKED', 'Too many wrong codes: submit a new request.');
    if (!row.code_expires_at || row.code_expires_at < this.now().toISOString())
      throw new VeilError('CODE_EXPIRED', 'The code has expired; ask for a new one.');
    if (!/^\d{6}$/.test(input.code) || !sameHex(this.codeHash(requestId, input.code), row.code_hash!)) {
      await repo.update(db, requestId, { code_attempts: row.code_attempts + 1 });
      const left = CODE_MAX_ATTEMPTS - row.code_attempts - 1;
      throw new VeilError(
        left > 0 ? 'CODE_INVALID' : 'REQUEST_LOCKED',
        left > 0 ? `Wrong code; ${left} attempt(s) left.` : 'Too many wrong codes: submit a new request.',
      );
    }
    // Selfies: analysed now, compared, discarded.
    const embeddings: Float32Array[] = [];
    for (const [i, img] of (input.selfies ?? []).entries()) {
      const r = await this.deps.engine.analyze(img);
      if (!r.faces.length) throw new VeilError('NO_FACE', `Selfie ${i + 1}: no face was found.`);
      if (r.faces.length > 1)
        throw new VeilError(
          'MULTIPLE_FACES',
          `Selfie ${i + 1}: ${r.faces.length} faces; the selfie must show only you.`,
        );
      embeddings.push(largestFace(r.faces)!.embedding);
    }
    const matched = new Set<SubjectId>();
    const how: string[] = ['email-code'];
    for (const s of await subjects.byContactHash(db, row.contact_hash)) matched.add(s);
    const strict = this.deps.strictThreshold ?? DEFAULT_CALIBRATION.strictThreshold;
    for (const e of embeddings) for (const s of await this.findByFace(e, strict)) matched.add(s);
    if (embeddings.length) how.push('selfie');
    // A claimed subject or receipt counts only when the email or the face proves it is theirs.
    let claimed = row.claimed_subject_id;
    if (row.claimed_consent_id)
      claimed = (await consentRepository.get(db, row.claimed_consent_id))?.subjectId ?? claimed;
    const claimNote = claimed && !matched.has(claimed as SubjectId) ? 'claimed subject not proven' : null;
    const token = randomBytes(24).toString('base64url');
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, {
        verified_at: this.now().toISOString(),
        verification: how.join('+'),
        matched_subjects: ` ${[...matched].join(' ')} `,
        download_token_hash: sha(token),
        code_hash: null,
        // Kept (sealed) only so a follow-up objection can make the do-not-enroll entry; cleared on fulfilment.
        pending_selfie: embeddings[0]
          ? seal(this.rightsKey, vectorBytes(embeddings[0]), `veil.request-selfie:${requestId}`)
          : null,
      });
      await this.move(
        tx,
        { id: requestId, state: 'identity_pending' },
        'verified',
        publicActor,
        claimNote,
        { method: how.join('+'), subjectsFound: matched.size },
        [...matched],
      );
    });
    return { state: 'verified', subjectsFound: matched.size, downloadToken: token };
  }

  /** Subjects whose templates match this face anywhere, restricted ones included: it is their own request. */
  private async findByFace(e: Float32Array, threshold: number): Promise<SubjectId[]> {
    const found = new Set(this.deps.index.searchAll(e, 20, threshold).map((h) => h.subjectId));
    const restricted = await this.deps.store.db
      .selectFrom('subjects')
      .select('id')
      .where('state', '=', 'restricted')
      .execute();
    for (const r of restricted) {
      const id = r.id as SubjectId;
      let key: Buffer;
      try {
        key = await this.deps.keyring.get(this.deps.store.db, id);
      } catch (err) {
        if (isVeilError(err, 'KEY_DESTROYED')) continue;
        throw err;
      }
      for (const t of await subjects.templates(this.deps.store.db, { subjectId: id }))
        if (cosine(this.deps.vault.openTemplate(key, t), e) >= threshold) found.add(id);
    }
    return [...found];
  }

  async get(requestId: string): Promise<RightsRequest> {
    const r = await repo.get(this.deps.store.db, requestId);
    if (!r) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    return r;
  }

  async list(opts: { overdue?: boolean; open?: boolean } = {}): Promise<RightsRequest[]> {
    const now = this.now();
    const all = await repo.list(this.deps.store.db, opts.open || opts.overdue ? { states: OPEN_STATES } : {});
    return opts.overdue ? all.filter((r) => isOverdue(r, now)) : all;
  }

  async counts(): Promise<{ open: number; overdue: number }> {
    const open = await repo.list(this.deps.store.db, { states: OPEN_STATES });
    return { open: open.length, overdue: open.filter((r) => isOverdue(r, this.now())).length };
  }

  /** Art. 12(3): once, by up to two further months, before the first deadline, with a reason told to the person. */
  async extend(requestId: string, months: number, reason: string, actor: Actor): Promise<RightsRequest> {
    const r = await this.get(requestId);
    if (!OPEN_STATES.includes(r.state)) throw new VeilError('INVALID_STATE', `The request is ${r.state}.`);
    if (!Number.isInteger(months) || months < 1 || months > 2)
      throw new VeilError('EXTENSION_REFUSED', 'An extension is 1 or 2 months (Art. 12(3)).');
    if (!reason?.trim() || reason.trim().length < 10)
      throw new VeilError('EXTENSION_REFUSED', 'An extension needs a reason the person is told.');
    if (r.extendedDueAt) throw new VeilError('EXTENSION_REFUSED', 'The deadline was already extended once.');
    if (this.now().toISOString() > r.dueAt)
      throw new VeilError('EXTENSION_REFUSED', 'The first deadline has passed: it can no longer be extended.');
    const newDue = addCalendarMonths(new Date(r.dueAt), months).toISOString();
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, { extended_due_at: newDue, extension_reason: reason.trim() });
      await repo.addEvent(
        tx,
        requestId,
        r.state,
        this.now().toISOString(),
        `${actor.kind}:${actor.id}`,
        `extended to ${newDue}: ${reason.trim()}`,
      );
      await this.deps.audit.append(tx, {
        actor,
        action: 'rights.request.extended',
        detail: { requestId, newDueAt: newDue, months },
      });
    });
    await this.notify(requestId, extensionMail(r.language, requestId, newDue, reason.trim()));
    return this.get(requestId);
  }

  async deny(requestId: string, reason: string, legalGround: string, actor: Actor): Promise<RightsRequest> {
    const r = await this.get(requestId);
    if (!reason?.trim() || !legalGround?.trim())
      throw new VeilError('INVALID_INPUT', 'A denial needs a reason and its legal ground.');
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, { denial_reason: reason.trim(), denial_ground: legalGround.trim() });
      await this.move(tx, r, 'denied', actor, reason.trim(), { ground: legalGround.trim() });
    });
    await this.notify(
      requestId,
      closedMail(r.language, requestId, 'denied', `${reason.trim()} (${legalGround.trim()})`),
    );
    return this.get(requestId);
  }

  async withdraw(requestId: string, actor: Actor = publicActor): Promise<RightsRequest> {
    const r = await this.get(requestId);
    await this.deps.store.transaction((tx) => this.move(tx, r, 'withdrawn', actor, null));
    return this.get(requestId);
  }

  /** Unverified requests older than the verification window expire (the person may ask again). */
  async expireStale(): Promise<number> {
    const dayAgo = new Date(this.now().getTime() - 86_400_000).toISOString();
    await this.deps.store.db
      .updateTable('rights_requests')
      .set({ pending_selfie: null })
      .where('pending_selfie', 'is not', null)
      .where('verified_at', '<', dayAgo)
      .execute();
    const limit = new Date(this.now().getTime() - VERIFY_WINDOW_DAYS * 86_400_000).toISOString();
    const stale = (await repo.list(this.deps.store.db, { states: ['received', 'identity_pending'] })).filter(
      (r) => r.receivedAt < limit,
    );
    for (const r of stale)
      await this.deps.store.transaction((tx) =>
        this.move(tx, r, 'expired', { kind: 'system', id: 'rights' }, `not verified within ${VERIFY_WINDOW_DAYS} days`),
      );
    return stale.length;
  }

  private async notify(requestId: string, m: { subject: string; text: string }): Promise<void> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row) return;
    await this.deps.mailer.send({
      to: unseal(this.rightsKey, row.contact_sealed, `veil.request-contact:${requestId}`).toString('utf8'),
      ...m,
    });
  }

  /** Carries out a verified request. Erasure of an already erased person, and a second erasure, are answered, not errors. */
  async fulfil(
    requestId: string,
    actor: Actor,
    opts: FulfilOptions = {},
  ): Promise<{ request: RightsRequest; certificate?: ErasureCertificate; download?: Buffer }> {
    let r = await this.get(requestId);
    if (r.state === 'fulfilled')
      return {
        request: r,
        ...(r.outcome?.['certificate'] ? { certificate: r.outcome['certificate'] as ErasureCertificate } : {}),
      };
    if (r.state !== 'verified' && r.state !== 'in_progress')
      throw new VeilError('INVALID_STATE', `Only a verified request can be fulfilled; this one is ${r.state}.`);
    if (r.state === 'verified')
      await this.deps.store.transaction((tx) => this.move(tx, r, 'in_progress', actor, null, {}, r.matchedSubjects));
    r = await this.get(requestId);
    const subjectsOf = r.matchedSubjects;
    const now = this.now().toISOString();
    let outcome: Record<string, unknown>;
    let certificate: ErasureCertificate | undefined;
    let download: Buffer | undefined;
    switch (r.kind) {
      case 'access':
      case 'portability': {
        const pkg = await buildAccessPackage(this.deps.exportDeps, subjectsOf, {
          language: r.language,
          requestId,
          withEmbeddings: r.kind === 'portability',
          now,
        });
        download = r.kind === 'access' ? zipPackage(pkg) : Buffer.from(JSON.stringify(pkg.manifest, null, 2));
        const artifactId = await this.storeArtifact(
          r.kind === 'access' ? 'access-export' : 'portability-export',
          download,
          subjectsOf,
          requestId,
        );
        outcome = {
          artifactId,
          nothingHeld: pkg.manifest['nothingHeld'],
          subjects: subjectsOf.length,
          files: Object.keys(pkg.files).length,
          format: r.kind === 'access' ? 'zip' : 'json',
        };
        break;
      }
      case 'erasure':
      case 'objection': {
        const selfie = await this.pendingSelfie(requestId);
        certificate = await this.deps.eraser.erase(subjectsOf, actor, requestId);
        let suppressionId: string | null = null;
        if (selfie && (r.kind === 'objection' || opts.suppress)) {
          suppressionId = await this.deps.store.transaction(async (tx) => {
            const id = await this.deps.suppression.add(
              tx,
              selfie,
              this.deps.engine.modelId,
              r.kind === 'objection' ? 'objection (Art. 21): do not enroll' : 'erasure with do-not-enroll (Art. 17)',
              now,
            );
            await this.deps.audit.append(tx, {
              actor,
              action: 'suppression.added',
              detail: { requestId, suppressionId: id },
            });
            return id;
          });
        }
        outcome = {
          certificate,
          suppressionId,
          erased: certificate.subjects.filter((s) => !s.alreadyErased).length,
          alreadyErased: certificate.subjects.filter((s) => s.alreadyErased).length,
          nothingHeld: subjectsOf.length === 0,
        };
        break;
      }
      case 'restriction':
      case 'lift-restriction':
        for (const s of subjectsOf) {
          const subj = await subjects.get(this.deps.store.db, s);
          if (subj && subj.state !== 'erased')
            await this.deps.gallery.setRestricted(s, r.kind === 'restriction', actor, `request ${requestId}`);
        }
        outcome = { subjects: subjectsOf.length, restricted: r.kind === 'restriction' };
        break;
      case 'withdraw-consent': {
        let withdrawn = 0;
        for (const s of subjectsOf) {
          for (const c of await this.deps.consents.forSubject(s)) {
            if (c.state === 'given' && (!r.claimedConsentId || r.claimedConsentId === c.id)) {
              await this.deps.consents.withdraw(c.id, actor);
              withdrawn++;
            }
          }
        }
        outcome = { consentsWithdrawn: withdrawn };
        break;
      }
      case 'rectification': {
        let removed = 0;
        for (const tid of opts.removeTemplateIds ?? []) {
          const t = await this.deps.store.db
            .selectFrom('templates')
            .select(['id', 'subject_id', 'purpose_id', 'image_path'])
            .where('id', '=', tid)
            .executeTakeFirst();
          if (!t || !subjectsOf.includes(t.subject_id as SubjectId))
            throw new VeilError('NOT_FOUND', `Template ${tid} is not one of this person's.`);
          this.deps.index.removeTemplate(t.id as TemplateId);
          await this.deps.store.transaction(async (tx) => {
            await subjects.deleteTemplates(tx, {
              subjectId: t.subject_id as SubjectId,
              templateId: t.id as TemplateId,
            });
            await touchIndex(this.deps.store, tx, t.subject_id as SubjectId, now);
            await this.deps.audit.append(tx, {
              actor,
              action: 'template.removed',
              subjectIds: [t.subject_id],
              purposeId: t.purpose_id,
              detail: { templateId: t.id, requestId, reason: 'rectification' },
            });
          });
          this.deps.vault.deleteFiles([t.image_path]);
          removed++;
        }
        if (opts.newEmail) {
          if (!z.string().email().safeParse(opts.newEmail).success)
            throw new VeilError('INVALID_INPUT', 'newEmail is not an email address.');
          for (const s of subjectsOf) {
            await this.deps.store.transaction(async (tx) => {
              const key = await this.deps.keyring.getOrCreate(tx, s, now);
              await subjects.setContact(
                tx,
                s,
                contactHash(this.deps.master, opts.newEmail!),
                seal(key, Buffer.from(opts.newEmail!.trim()), `veil.contact:${s}`),
                now,
              );
              await this.deps.audit.append(tx, {
                actor,
                action: 'subject.rectified',
                subjectIds: [s],
                detail: { requestId, field: 'contact' },
              });
            });
          }
        }
        outcome = { templatesRemoved: removed, contactUpdated: Boolean(opts.newEmail) };
        break;
      }
    }
    await this.deps.store.transaction(async (tx) => {
      // The sealed selfie template survives an access answer for a day, so the person can still object
      // from the portal; expireStale() clears it after that.
      await repo.update(tx, requestId, {
        outcome: JSON.stringify(outcome),
        ...(r.kind === 'access' || r.kind === 'portability' ? {} : { pending_selfie: null }),
      });
      const onTime = now <= effectiveDue(r);
      await this.move(
        tx,
        r.state === 'in_progress' ? r : { ...r, state: 'in_progress' },
        'fulfilled',
        actor,
        null,
        { onTime },
        r.kind === 'erasure' || r.kind === 'objection' ? [] : subjectsOf,
      );
    });
    await this.notify(
      requestId,
      closedMail(r.language, requestId, 'fulfilled', this.summary(r.kind, outcome, r.language)),
    );
    return {
      request: await this.get(requestId),
      ...(certificate ? { certificate } : {}),
      ...(download ? { download } : {}),
    };
  }

  private summary(kind: RequestKind, o: Record<string, unknown>, lang: 'en' | 'fr'): string {
    const fr = lang === 'fr';
    if ((kind === 'access' || kind === 'portability') && o['nothingHeld'])
      return fr
        ? 'Nous ne détenons aucune donnée de visage correspondant à vous.'
        : 'We hold no face data matching you.';
    if (kind === 'access' || kind === 'portability')
      return fr
        ? 'Vos données sont prêtes à être téléchargées depuis le portail.'
        : 'Your data is ready to download from the portal.';
    if (kind === 'erasure' || kind === 'objection')
      return fr
        ? `Effacement terminé. Certificat signé disponible dans le portail.`
        : `Erasure complete. A signed certificate is available in the portal.`;
    return fr ? 'Votre demande a été traitée.' : 'Your request has been carried out.';
  }

  private async pendingSelfie(requestId: string): Promise<Float32Array | null> {
    const row = await repo.row(this.deps.store.db, requestId);
    return row?.pending_selfie
      ? bytesVector(unseal(this.rightsKey, row.pending_selfie, `veil.request-selfie:${requestId}`))
      : null;
  }

  private async storeArtifact(
    kind: string,
    bytes: Buffer,
    subjectIds: readonly string[],
    requestId: string,
  ): Promise<string> {
    const id = newId.other('art');
    const rel = join('exports', `${requestId}.${id}.sealed`);
    const abs = join(this.deps.dataDir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileSync(abs, seal(this.exportKey, bytes, `veil.export:${id}`), { mode: 0o600 });
    const at = this.now();
    await this.deps.store.db
      .insertInto('artifacts')
      .values({
        id,
        kind,
        path: rel,
        subject_ids: ` ${subjectIds.join(' ')} `,
        created_at: at.toISOString(),
        expires_at: new Date(at.getTime() + 30 * 86_400_000).toISOString(),
      })
      .execute();
    return id;
  }

  /**
   * Self-service after verification (the portal's one-click actions): a new request of another kind
   * for the same verified person, carried out at once. The token proves the identity check just passed.
   */
  async followUp(
    requestId: string,
    token: string,
    kind: 'erasure' | 'restriction' | 'objection' | 'withdraw-consent',
  ): Promise<{ requestId: string; downloadToken: string; request: RightsRequest; certificate?: ErasureCertificate }> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row || !row.download_token_hash || !sameHex(sha(token), row.download_token_hash))
      throw new VeilError('NOT_FOUND', 'No such request.');
    if (!row.verified_at || this.now().getTime() - new Date(row.verified_at).getTime() > 24 * 3_600_000)
      throw new VeilError('INVALID_STATE', 'Verify again: the identity check is more than a day old.');
    const id = newId.other('req');
    const now = this.now().toISOString();
    const newToken = randomBytes(24).toString('base64url');
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, {
        id,
        kind,
        contactHash: row.contact_hash,
        contactSealed: seal(
          this.rightsKey,
          unseal(this.rightsKey, row.contact_sealed, `veil.request-contact:${requestId}`),
          `veil.request-contact:${id}`,
        ),
        language: row.language,
        claimedSubjectId: null,
        claimedConsentId: null,
        details: `follow-up of ${requestId}`,
        receivedAt: now,
        dueAt: dueDate(this.now()).toISOString(),
      });
      await repo.addEvent(tx, id, 'received', now, 'public:requester', `follow-up of ${requestId}`);
      await this.deps.audit.append(tx, {
        actor: publicActor,
        action: 'rights.request.received',
        detail: { requestId: id, kind, article: REQUEST_KINDS[kind], followUpOf: requestId },
      });
      const pending = row.pending_selfie
        ? seal(
            this.rightsKey,
            unseal(this.rightsKey, row.pending_selfie, `veil.request-selfie:${requestId}`),
            `veil.request-selfie:${id}`,
          )
        : null;
      await repo.update(tx, id, {
        state: 'identity_pending',
        verified_at: now,
        verification: `${row.verification ?? 'email-code'} (follow-up of ${requestId})`,
        matched_subjects: row.matched_subjects,
        download_token_hash: sha(newToken),
        pending_selfie: pending,
      });
      await repo.addEvent(tx, id, 'identity_pending', now, 'system:rights', null);
      await this.move(
        tx,
        { id, state: 'identity_pending' },
        'verified',
        publicActor,
        `identity proven in ${requestId}`,
        { followUpOf: requestId },
        row.matched_subjects.trim().split(' ').filter(Boolean),
      );
    });
    const r = await this.fulfil(id, publicActor);
    return {
      requestId: id,
      downloadToken: newToken,
      request: r.request,
      ...(r.certificate ? { certificate: r.certificate } : {}),
    };
  }

  /** The result file of a fulfilled access or portability request, for the verified requester only. */
  async download(requestId: string, token: string): Promise<{ bytes: Buffer; kind: string }> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row || !row.download_token_hash || !sameHex(sha(token), row.download_token_hash))
      throw new VeilError('NOT_FOUND', 'No such download.');
    const outcome = row.outcome ? JSON.parse(row.outcome) : null;
    if (!outcome?.artifactId) throw new VeilError('NOT_FOUND', 'This request has no file to download.');
    const a = await this.deps.store.db
      .selectFrom('artifacts')
      .selectAll()
      .where('id', '=', outcome.artifactId)
      .executeTakeFirst();
    if (!a?.path) throw new VeilError('NOT_FOUND', 'The file has expired or was erased.');
    return {
      bytes: unseal(this.exportKey, readFileSync(join(this.deps.dataDir, a.path)), `veil.export:${a.id}`),
      kind: a.kind,
    };
  }

  /** The outcome for the verified requester (certificate, counts), never before verification. */
  async outcomeFor(
    requestId: string,
    token: string,
  ): Promise<{ state: RequestState; kind: RequestKind; outcome: Record<string, unknown> | null; dueAt: string }> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row || !row.download_token_hash || !sameHex(sha(token), row.download_token_hash))
      throw new VeilError('NOT_FOUND', 'No such request.');
    return {
      state: row.state as RequestState,
      kind: row.kind as RequestKind,
      outcome: row.outcome ? JSON.parse(row.outcome) : null,
      dueAt: row.extended_due_at ?? row.due_at,
    };
  }
}

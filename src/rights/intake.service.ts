import { z } from 'zod';
import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actorLabel, actors, type Actor } from '../auth/actor.js';
import type { FaceAnalyzer, ImageOptions } from '../face/analyzer.js';
import { newId, type SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { parseInput } from '../validation.js';
import { contactHash, type MasterKey } from '../privacy/keys.js';
import { subjectRepository as subjects } from '../gallery/subject.repository.js';
import { largestFace } from '../gallery/search.service.js';
import { livenessEvidence, requireLive, type LivenessVerdict } from '../face/liveness.js';
import type { RateLimiter } from '../ops/rate-limit.service.js';
import { text } from '../text/index.js';
import {
  CODE_MAX_ATTEMPTS,
  CODE_TTL_MS,
  REQUEST_KINDS,
  VERIFY_WINDOW_DAYS,
  dueDate,
  type RequestKind,
  type RequestState,
  type ReviewItem,
} from './request.js';
import { requestRepository as repo } from './request.repository.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import type { Mailer } from './mailer.js';
import type { FaceFinder } from './face-finder.js';
import { moveRequest } from './transitions.js';
import { checkCode } from '../privacy/code-check.js';
import type { SelfieVault } from './selfie-vault.js';

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

const SYSTEM = actors.system('rights');

/** An authorized agent filing a request for a person, and its record of the filing. */
export interface AgentFiling {
  readonly agent: Actor;
  record(tx: Parameters<typeof repo.update>[0], requestId: string, receivedAt: string): Promise<void>;
}

/**
 * How a rights request starts: filed by anyone, answered the same whoever is enrolled; then proven.
 * An emailed code proves an address, which links the subjects holding that address. A selfie may
 * find more, but a face is not a secret: its matches go to the DPO's review, never act by themselves,
 * and the answer to the requester is the same whether it matched anyone or not.
 */
export class IntakeService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      engine: FaceAnalyzer;
      master: MasterKey;
      secrets: ContactSecrets;
      mailer: Mailer;
      faces: FaceFinder;
      limiter: RateLimiter;
      limits: { resendsPerRequest: number; perContactPerHour: number };
      selfies: SelfieVault;
    },
  ) {}

  private now(): Date {
    return this.deps.clock.now();
  }

  /**
   * Files a request. `via` is the authorized agent filing it for the person: the request names it,
   * and its own record (what the protocol adds) is written in the same transaction, after the first
   * moves, whose state the agent reads in the answer. The person still proves the address.
   */
  async submit(
    raw: SubmitInput,
    via?: AgentFiling,
  ): Promise<{ requestId: string; dueAt: string; state: RequestState }> {
    const input = parseInput(SubmitSchema, raw);
    const filer = via?.agent ?? actors.public();
    // One address cannot be flooded with codes from many places.
    await this.deps.limiter.take(
      'contact',
      input.email.trim().toLowerCase(),
      this.deps.limits.perContactPerHour,
      3_600_000,
    );
    const id = newId.other('req');
    const received = this.now();
    const due = dueDate(received).toISOString();
    const { code, hash } = this.deps.secrets.newCode(id);
    const ch = contactHash(this.deps.master, input.email);
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, {
        id,
        kind: input.kind,
        contactHash: ch,
        contactSealed: this.deps.secrets.sealContact(id, input.email),
        language: input.language,
        claimedSubjectId: input.subjectId ?? null,
        claimedConsentId: input.consentReceiptId ?? null,
        details: input.details,
        receivedAt: received.toISOString(),
        dueAt: due,
        agentId: via?.agent.id ?? null,
      });
      await repo.addEvent(tx, id, 'received', received.toISOString(), actorLabel(filer), null);
      await this.deps.audit.append(tx, {
        actor: filer,
        action: 'rights.request.received',
        detail: { requestId: id, kind: input.kind, article: REQUEST_KINDS[input.kind], dueAt: due, contactHash: ch },
      });
      await repo.update(tx, id, {
        code_hash: hash,
        code_expires_at: new Date(received.getTime() + CODE_TTL_MS).toISOString(),
        code_attempts: 0,
      });
      await this.move(tx, id, 'received', 'identity_pending', SYSTEM, 'verification code sent');
      await via?.record(tx, id, received.toISOString());
    });
    await this.deps.mailer.send({
      to: input.email,
      ...text(input.language).codeMail(REQUEST_KINDS[input.kind], input.kind, code, id, due),
    });
    return { requestId: id, dueAt: due, state: 'identity_pending' };
  }

  /** A fresh code for a request still waiting for verification (the old one stops working), a few times at most. */
  async resendCode(requestId: string): Promise<void> {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    if (row.state !== 'identity_pending')
      throw new VeilError('INVALID_STATE', 'This request is not waiting for verification.');
    if (row.code_attempts >= CODE_MAX_ATTEMPTS)
      throw new VeilError('REQUEST_LOCKED', 'Too many wrong codes: submit a new request.');
    const sent = row.resends ?? 0;
    if (sent >= this.deps.limits.resendsPerRequest) {
      throw new VeilError(
        'RATE_LIMITED',
        `A code was already sent ${sent + 1} times for this request; submit a new request.`,
      );
    }
    const email = this.deps.secrets.openContact(requestId, row.contact_sealed);
    await this.deps.limiter.take('contact', email.trim().toLowerCase(), this.deps.limits.perContactPerHour, 3_600_000);
    const { code, hash } = this.deps.secrets.newCode(requestId);
    await repo.update(this.deps.store.db, requestId, {
      code_hash: hash,
      code_expires_at: new Date(this.now().getTime() + CODE_TTL_MS).toISOString(),
      resends: sent + 1,
    });
    const kind = row.kind as RequestKind;
    const lang = row.language === 'fr' ? 'fr' : 'en';
    await this.deps.mailer.send({
      to: email,
      ...text(lang).codeMail(REQUEST_KINDS[kind], kind, code, requestId, row.due_at),
    });
  }

  /**
   * Checks the emailed code (limited attempts), links the subjects holding the proven address, and
   * hands any selfie matches to the DPO's review. The answer never says what was found.
   */
  async verify(
    requestId: string,
    input: { code: string; selfies?: readonly Uint8Array[] },
    opts?: ImageOptions,
  ): Promise<{ state: RequestState; downloadToken: string }> {
    const db = this.deps.store.db;
    const row = await repo.row(db, requestId);
    if (!row) throw new VeilError('NOT_FOUND', `No request '${requestId}'.`);
    if (row.state !== 'identity_pending')
      throw new VeilError('INVALID_STATE', `This request is ${row.state}, not waiting for verification.`);
    await checkCode({
      expiresAt: row.code_expires_at,
      now: this.now(),
      claimAttempt: (max) => repo.claimCodeAttempt(db, requestId, max),
      matches: () => this.deps.secrets.codeMatches(requestId, input.code, row.code_hash),
      restart: 'submit a new request',
      renew: 'ask for a new one',
    });
    // Selfies: analysed now, compared, discarded (only the first template is kept, sealed, for an objection).
    const embeddings: Float32Array[] = [];
    const live: LivenessVerdict[] = [];
    for (const [i, img] of (input.selfies ?? []).entries()) {
      const r = await this.deps.engine.analyze(img, { ...opts, liveness: true });
      if (!r.faces.length) throw new VeilError('NO_FACE', `Selfie ${i + 1}: no face was found.`);
      if (r.faces.length > 1)
        throw new VeilError(
          'MULTIPLE_FACES',
          `Selfie ${i + 1}: ${r.faces.length} faces; the selfie must show only you.`,
        );
      // A spoof verdict never passes silently: the person retakes or proves the address alone.
      live.push(
        requireLive(largestFace(r.faces)!.liveness, `Selfie ${i + 1}`, 'take a new selfie, or send the code alone'),
      );
      embeddings.push(largestFace(r.faces)!.embedding);
    }
    const linked = new Set<SubjectId>(await subjects.byContactHash(db, row.contact_hash));
    const byFace = new Map<SubjectId, number>();
    for (const e of embeddings)
      for (const [s, sim] of await this.deps.faces.find(e)) byFace.set(s, Math.max(byFace.get(s) ?? -1, sim));
    const items: ReviewItem[] = [...byFace]
      .filter(([s]) => !linked.has(s))
      .map(([subjectId, similarity]) => ({
        subjectId,
        why: 'face-only' as const,
        similarity: Math.round(similarity * 1e4) / 1e4,
      }));
    const selfieLinked = [...byFace.keys()].some((s) => linked.has(s));
    let claimed = row.claimed_subject_id;
    if (row.claimed_consent_id) claimed = (await this.deps.faces.subjectOfConsent(row.claimed_consent_id)) ?? claimed;
    const claimNote =
      claimed && !linked.has(claimed as SubjectId) ? 'claimed subject not linked to the proven address' : null;
    const { token, hash } = this.deps.secrets.newToken();
    const how = embeddings.length ? 'email-code+selfie' : 'email-code';
    await this.deps.store.transaction(async (tx) => {
      await repo.update(tx, requestId, {
        verified_at: this.now().toISOString(),
        verification: how,
        matched_subjects: ` ${[...linked].join(' ')} `,
        download_token_hash: hash,
        code_hash: null,
        // Every selfie goes to review, matched or not, so what the requester sees cannot tell them apart.
        review_state: embeddings.length ? 'pending' : null,
        face_matches: embeddings.length ? JSON.stringify({ items, selfieLinked }) : null,
        liveness: embeddings.length ? livenessEvidence(live) : null,
        // Kept (sealed) only so an objection can make the do-not-enroll entry; cleared on fulfilment or after a day.
        pending_selfie: embeddings[0]
          ? await this.deps.selfies.seal(tx, requestId, embeddings[0], this.now().toISOString())
          : null,
      });
      await this.move(
        tx,
        requestId,
        'identity_pending',
        'verified',
        actors.public(),
        claimNote,
        { method: how, linked: linked.size, faceMatches: items.length },
        [...linked, ...items.map((i) => i.subjectId)],
      );
    });
    return { state: 'verified', downloadToken: token };
  }

  /** Unverified requests older than the verification window expire (the person may ask again). */
  async expireStale(): Promise<number> {
    const dayAgo = new Date(this.now().getTime() - 86_400_000).toISOString();
    const old = await repo.selfiesVerifiedBefore(this.deps.store.db, dayAgo);
    if (old.length) {
      await this.deps.store.transaction(async (tx) => {
        await repo.clearSelfies(tx, old);
        await this.deps.selfies.forget(tx, old);
      });
      await this.deps.selfies.shred();
    }
    const limit = new Date(this.now().getTime() - VERIFY_WINDOW_DAYS * 86_400_000).toISOString();
    const stale = (await repo.list(this.deps.store.db, { states: ['received', 'identity_pending'] })).filter(
      (r) => r.receivedAt < limit,
    );
    for (const r of stale) {
      await this.deps.store.transaction((tx) =>
        this.move(tx, r.id, r.state, 'expired', SYSTEM, `not verified within ${VERIFY_WINDOW_DAYS} days`),
      );
    }
    return stale.length;
  }

  private async move(
    tx: Parameters<typeof repo.update>[0],
    id: string,
    from: RequestState,
    to: RequestState,
    actor: Actor,
    note: string | null,
    detail: Record<string, string | number | boolean | null> = {},
    subjectIds: readonly string[] = [],
  ): Promise<void> {
    await moveRequest(this.deps, tx, { id, state: from }, to, actor, note, detail, subjectIds);
  }
}

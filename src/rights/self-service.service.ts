import type { Clock } from '../clock.js';
import type { Store } from '../store/store.js';
import type { AuditLog } from '../audit/audit.log.js';
import { actors } from '../auth/actor.js';
import { newId } from '../ids.js';
import { VeilError } from '../errors.js';
import { REQUEST_KINDS, dueDate, type RequestKind, type RequestState, type ReviewItem } from './request.js';
import { requestRepository as repo } from './request.repository.js';
import type { ExportFiles } from './export-files.js';
import type { SelfieVault } from './selfie-vault.js';
import type { ContactSecrets } from '../privacy/contact-secrets.js';
import type { Fulfilment, FulfilResult } from './fulfilment.js';
import { moveRequest } from './transitions.js';

export type FollowUpKind = 'erasure' | 'restriction' | 'objection' | 'withdraw-consent' | 'contest';

/** What a requester sees of their request: never which faces matched, never anything before verification. */
export interface PublicOutcome {
  readonly state: RequestState;
  readonly kind: RequestKind;
  readonly outcome: Record<string, unknown> | null;
  readonly dueAt: string;
  /** 'pending' while the DPO checks the search by face (always, when a selfie was given). */
  readonly review: 'pending' | 'done' | null;
}

const PUBLIC = actors.public();

/**
 * The requester's side after verification: the download token proves the identity check passed.
 * Every token check is here, once.
 */
export class SelfService {
  constructor(
    private readonly deps: {
      store: Store;
      audit: AuditLog;
      clock: Clock;
      secrets: ContactSecrets;
      fulfilment: Fulfilment;
      files: ExportFiles;
      selfies: SelfieVault;
    },
  ) {}

  /** The request's row, when the token is the one issued at its verification. */
  private async authorize(requestId: string, token: string) {
    const row = await repo.row(this.deps.store.db, requestId);
    if (!row || !this.deps.secrets.tokenMatches(token, row.download_token_hash))
      throw new VeilError('NOT_FOUND', 'No such request.');
    return row;
  }

  async outcome(requestId: string, token: string): Promise<PublicOutcome> {
    await this.authorize(requestId, token);
    const r = (await repo.get(this.deps.store.db, requestId))!;
    return {
      state: r.state,
      kind: r.kind,
      outcome: r.outcome,
      dueAt: r.extendedDueAt ?? r.dueAt,
      review: r.review ? (r.review.state === 'pending' ? 'pending' : 'done') : null,
    };
  }

  /** The result file of an access or portability request. */
  async download(requestId: string, token: string): Promise<{ bytes: Buffer; kind: string }> {
    const row = await this.authorize(requestId, token);
    return this.deps.files.read(row.outcome ? JSON.parse(row.outcome) : null);
  }

  /** The same file, decrypted as it is sent (the HTTP download: a large ZIP is never held whole). */
  async downloadStream(requestId: string, token: string): Promise<{ chunks: AsyncIterable<Buffer>; kind: string }> {
    const row = await this.authorize(requestId, token);
    return this.deps.files.stream(row.outcome ? JSON.parse(row.outcome) : null);
  }

  /** Access and portability are answered at once for what the proven contact links; the rest after review. */
  async answer(requestId: string, token: string): Promise<PublicOutcome> {
    await this.authorize(requestId, token);
    const r = (await repo.get(this.deps.store.db, requestId))!;
    if (r.kind !== 'access' && r.kind !== 'portability') {
      throw new VeilError(
        'INVALID_STATE',
        'Only access and portability are answered without an operator; use the one-click actions for the others.',
      );
    }
    if (r.state !== 'fulfilled') await this.deps.fulfilment.run(r, PUBLIC, {}, 'requester');
    return this.outcome(requestId, token);
  }

  /**
   * A one-click action after verification: a new request of another kind for the same verified
   * person, carried out at once for what needs no review. The identity check must be a day old at most.
   */
  async followUp(
    requestId: string,
    token: string,
    kind: FollowUpKind,
  ): Promise<{ requestId: string; downloadToken: string } & FulfilResult> {
    const row = await this.authorize(requestId, token);
    // A denied, withdrawn or expired request proves nothing any more, whatever its token.
    if (!['verified', 'in_progress', 'fulfilled'].includes(row.state))
      throw new VeilError('INVALID_STATE', `This request is ${row.state}: submit a new one.`);
    if (!row.verified_at || this.deps.clock.now().getTime() - new Date(row.verified_at).getTime() > 24 * 3_600_000) {
      throw new VeilError('INVALID_STATE', 'Verify again: the identity check is more than a day old.');
    }
    const id = newId.other('req');
    const now = this.deps.clock.now().toISOString();
    const { token: newToken, hash } = this.deps.secrets.newToken();
    const s = this.deps.secrets;
    const faces = row.face_matches ? JSON.parse(row.face_matches) : null;
    // A review decided for one right is not a decision for another: face matches are reviewed again.
    const faceItems = (faces?.items ?? [])
      .filter((i: ReviewItem) => i.why === 'face-only')
      .map(({ subjectId, why, similarity }: ReviewItem) => ({ subjectId, why, similarity }));
    const selfie = row.pending_selfie
      ? await this.deps.selfies.open(this.deps.store.db, requestId, row.pending_selfie)
      : null;
    await this.deps.store.transaction(async (tx) => {
      await repo.insert(tx, {
        id,
        kind,
        contactHash: row.contact_hash,
        contactSealed: s.sealContact(id, s.openContact(requestId, row.contact_sealed)),
        language: row.language,
        claimedSubjectId: null,
        claimedConsentId: null,
        details: `follow-up of ${requestId}`,
        receivedAt: now,
        dueAt: dueDate(this.deps.clock.now()).toISOString(),
      });
      await repo.addEvent(tx, id, 'received', now, 'public:requester', `follow-up of ${requestId}`);
      await this.deps.audit.append(tx, {
        actor: PUBLIC,
        action: 'rights.request.received',
        detail: { requestId: id, kind, article: REQUEST_KINDS[kind], followUpOf: requestId },
      });
      await repo.update(tx, id, {
        state: 'identity_pending',
        // The identity check is the original one: a chain of follow-ups never renews it.
        verified_at: row.verified_at,
        verification: `${row.verification ?? 'email-code'} (follow-up of ${requestId})`,
        matched_subjects: row.matched_subjects,
        download_token_hash: hash,
        pending_selfie: selfie ? await this.deps.selfies.seal(tx, id, selfie, now) : null,
        review_state: faces ? 'pending' : null,
        face_matches: faces ? JSON.stringify({ items: faceItems, selfieLinked: Boolean(faces.selfieLinked) }) : null,
        liveness: row.liveness,
      });
      await repo.addEvent(tx, id, 'identity_pending', now, 'system:rights', null);
      await moveRequest(
        this.deps,
        tx,
        { id, state: 'identity_pending' },
        'verified',
        PUBLIC,
        `identity proven in ${requestId}`,
        { followUpOf: requestId },
        row.matched_subjects.trim().split(' ').filter(Boolean),
      );
    });
    const r = await this.deps.fulfilment.run((await repo.get(this.deps.store.db, id))!, PUBLIC, {}, 'requester');
    return { requestId: id, downloadToken: newToken, ...r };
  }
}

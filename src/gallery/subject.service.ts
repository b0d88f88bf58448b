import type { Actor } from '../auth/actor.js';
import { inScope, type SubjectScope } from '../auth/policy.js';
import type { PurposeId, SubjectId } from '../ids.js';
import { VeilError } from '../errors.js';
import { contactHash } from '../privacy/keys.js';
import type { KeyRing } from '../privacy/keyring.js';
import { consentRepository } from '../privacy/consent.repository.js';
import { purposeRepository } from '../privacy/purpose.repository.js';
import { summary, type ConsentSummary } from '../privacy/consent.service.js';
import type { CoreDeps } from '../service-deps.js';
import { subjectRepository as subjects } from './subject.repository.js';
import { subjectListRepository as listing } from './subject-list.repository.js';
import { searchRepository } from './search.repository.js';
import { mediaRepository } from './media.repository.js';
import type { SubjectState } from './subject.js';
import type { FaceDataLifecycle } from './face-data.lifecycle.js';
import type { TemplateVault } from './template-vault.js';
import type { IngestService } from './ingest.service.js';
import { SubjectPhotos } from './subject-photos.js';
import { confirmationRepository, type ConfirmationRow } from './confirmation.repository.js';
import { confirmationOf, type Confirmation } from './match-confirmation.js';

/** A match's state, when its purpose required confirmations or someone decided on it. */
function stateOf(
  d: { id: string; kind: string; face: number; confirmations: number | null },
  rows: readonly ConfirmationRow[],
): { confirmation?: Confirmation } {
  const mine = rows.filter((r) => r.searchId === d.id && r.face === Number(d.face));
  if (d.kind !== 'identify' || (!d.confirmations && !mine.length)) return {};
  const decisions = mine.map((r) => ({ by: `${r.actorKind}:${r.actorId}`, decision: r.decision }));
  return { confirmation: confirmationOf(d.confirmations ?? 0, decisions) };
}

export interface SubjectView {
  readonly id: string;
  readonly state: SubjectState;
  readonly region: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The purposes this caller sees the subject under, with the basis and the last interaction. */
  readonly purposes: readonly {
    id: string;
    key: string;
    name: string;
    status: string;
    keepsPhotos: boolean;
    consentId: string | null;
    sourceReference: string | null;
    enrolledAt: string | null;
    lastInteractionAt: string | null;
  }[];
  readonly templates: readonly {
    id: string;
    purposeId: string;
    model: string;
    quality: Record<string, number>;
    createdAt: string;
    hasPhoto: boolean;
  }[];
  readonly consents: readonly ConsentSummary[];
  readonly sightings: number;
  /** Searches that returned this subject (who received them, when, why), under this caller's purposes. */
  readonly searches: readonly {
    searchId: string;
    kind: string;
    purposeId: string;
    at: string;
    recipient: string;
    caseRef: string | null;
    justification: string | null;
    similarity: number;
    rank: number;
    /** Where the match stands under the two-person rule, or once someone rejected it (EU AI Act Art. 14(5)). */
    confirmation?: Confirmation;
  }[];
}

export interface SubjectListQuery {
  /** A subject id (or its start), a consent id, a source reference, or a contact email address. */
  readonly q?: string | undefined;
  readonly purpose?: string | undefined;
  readonly state?: SubjectState | undefined;
  readonly cursor?: string | undefined;
  readonly limit: number;
}

export interface SubjectListItem {
  readonly id: string;
  readonly state: SubjectState;
  readonly createdAt: string;
  readonly purposes: readonly string[];
  readonly consents: readonly { id: string; purpose: string; state: string }[];
  readonly templates: number;
  readonly lastInteractionAt: string | null;
}

const cursorOf = (s: { createdAt: string; id: string }) =>
  Buffer.from(JSON.stringify([s.createdAt, s.id])).toString('base64url');

function parseCursor(c: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(c, 'base64url').toString()) as [unknown, unknown];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new VeilError('INVALID_INPUT', 'cursor is not one this list handed out.');
}

/**
 * A subject as an operator or DPO may see them: only what lies under the purposes their key is
 * bound to. A subject shared by several purposes shows each key its own purposes' data. Every view
 * (list, record, photo) is a disclosure: it is audited as `subject.viewed` and listed in the
 * person's access export.
 */
export class SubjectService {
  private readonly photos: SubjectPhotos;

  constructor(
    private readonly deps: CoreDeps & {
      lifecycle: FaceDataLifecycle;
      keyring: KeyRing;
      vault: TemplateVault;
      ingest: Pick<IngestService, 'photo'>;
    },
  ) {
    this.photos = new SubjectPhotos(deps);
  }

  /** Subjects under the caller's purposes, searched and paged, newest first. */
  async list(
    actor: Actor,
    q: SubjectListQuery,
  ): Promise<{ items: SubjectListItem[]; nextCursor: string | null; total: number }> {
    const db = this.deps.store.db;
    const visible = q.purpose
      ? [await this.deps.policy.purpose(actor, 'subjects.read', q.purpose)]
      : await this.deps.policy.purposes(actor, 'subjects.read');
    const limit = Math.max(1, Math.min(100, q.limit));
    const text = q.q?.trim() || undefined;
    const byContact = Boolean(text?.includes('@'));
    const found = await listing.search(db, {
      purposeIds: visible.map((p) => p.id),
      state: q.state,
      ...(byContact ? { ids: await subjects.byContactHash(db, contactHash(this.deps.keyring.master, text!)) } : {}),
      text: byContact ? undefined : text,
      after: q.cursor ? parseCursor(q.cursor) : undefined,
      limit: limit + 1,
    });
    const page = found.rows.slice(0, limit);
    const ids = page.map((s) => s.id);
    const d = await listing.listDetails(db, ids);
    const key = new Map(visible.map((p) => [p.id as string, p.key]));
    const items = page.map((s): SubjectListItem => {
      const mine = <T extends { subject_id: string; purpose_id: string }>(rows: readonly T[]) =>
        rows.filter((r) => r.subject_id === s.id && key.has(r.purpose_id));
      const enrollments = mine(d.enrollments);
      const last = enrollments.map((e) => e.last_interaction_at).sort();
      return {
        id: s.id,
        state: s.state,
        createdAt: s.createdAt,
        purposes: [...new Set([...enrollments, ...mine(d.consents), ...mine(d.templates)].map((r) => r.purpose_id))]
          .map((p) => key.get(p)!)
          .sort(),
        consents: mine(d.consents).map((c) => ({ id: c.id, purpose: key.get(c.purpose_id)!, state: c.state })),
        templates: mine(d.templates).reduce((n, t) => n + t.n, 0),
        lastInteractionAt: last.at(-1) ?? null,
      };
    });
    if (ids.length)
      await this.viewed(actor, ids, q.purpose ? visible[0]!.id : null, {
        view: 'list',
        results: ids.length,
        byContact,
        ...(q.state ? { state: q.state } : {}),
      });
    return { items, nextCursor: found.rows.length > limit ? cursorOf(page.at(-1)!) : null, total: found.total };
  }

  async get(actor: Actor, id: string): Promise<SubjectView> {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    const db = this.deps.store.db;
    const sid = scope.subject.id as SubjectId;
    const purposes = (await purposeRepository.list(db)).filter((p) => inScope(scope, p.id));
    const enrollments = await subjects.enrollments(db, sid);
    const held = new Set(await subjects.purposesOf(db, sid));
    const templates = (await subjects.templates(db, { subjectId: sid })).filter((t) => inScope(scope, t.purposeId));
    const consents = (await consentRepository.forSubject(db, sid)).filter((c) => inScope(scope, c.purposeId));
    const searches = (await searchRepository.disclosuresOf(db, sid)).filter((d) => inScope(scope, d.purpose_id));
    const decided = await confirmationRepository.ofSubject(db, sid);
    const s = scope.subject;
    const view: SubjectView = {
      id: s.id,
      state: s.state,
      region: s.region,
      createdAt: s.createdAt,
      updatedAt: s.updatedAt,
      purposes: purposes
        .filter((p) => held.has(p.id))
        .map((p) => {
          const e = enrollments.find((x) => x.purpose_id === p.id);
          return {
            id: p.id,
            key: p.key,
            name: p.name,
            status: p.status,
            keepsPhotos: p.keepSourceImages,
            consentId: e?.consent_id ?? null,
            sourceReference: e?.source_reference ?? null,
            enrolledAt: e?.created_at ?? null,
            lastInteractionAt: e?.last_interaction_at ?? null,
          };
        }),
      templates: templates.map((t) => ({
        id: t.id,
        purposeId: t.purposeId,
        model: t.model,
        quality: t.quality,
        createdAt: t.createdAt,
        hasPhoto: Boolean(t.imagePath) && Boolean(purposes.find((p) => p.id === t.purposeId)?.keepSourceImages),
      })),
      consents: consents.map(summary),
      sightings: (await this.sightingsIn(sid, scope)).length,
      searches: searches.map((x) => ({
        ...stateOf(x, decided),
        searchId: x.id,
        kind: x.kind,
        purposeId: x.purpose_id,
        at: x.at,
        recipient: `${x.actor_kind}:${x.actor_id}`,
        caseRef: x.case_ref,
        justification: x.justification,
        similarity: x.similarity,
        rank: x.rank,
      })),
    };
    await this.viewed(actor, [sid], null, { view: 'record' });
    return view;
  }

  /** Photos the subject was matched in, under the actor's purposes. */
  async sightings(actor: Actor, id: string) {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    return this.sightingsIn(scope.subject.id as SubjectId, scope);
  }

  /** A thumbnail of a kept enrollment photo, where the purpose keeps photos (JPEG). */
  async photo(actor: Actor, id: string, opts: { template?: string | undefined; purpose?: string | undefined }) {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    const only = opts.purpose ? await this.deps.policy.purpose(actor, 'subjects.read', opts.purpose) : undefined;
    const r = await this.photos.enrollment(scope, { template: opts.template, purposeId: only?.id });
    await this.viewed(actor, [scope.subject.id], r.purposeId, { view: 'photo', templateId: r.templateId });
    return r.jpeg;
  }

  /** The subject's own face in a photo they were matched in, every other face blurred (JPEG). */
  async sightingPhoto(actor: Actor, id: string, sightingId: string) {
    const scope = await this.deps.policy.subject(actor, 'subjects.read', id);
    const sighting = (await this.sightingsIn(scope.subject.id as SubjectId, scope)).find((s) => s.id === sightingId);
    if (!sighting) throw new VeilError('NOT_FOUND', `No sighting '${sightingId}' of this subject.`);
    const jpeg = await this.photos.sighting(scope, sighting);
    await this.viewed(actor, [scope.subject.id], sighting.purposeId, {
      view: 'sighting',
      sightingId,
      mediaId: sighting.mediaId,
    });
    return jpeg;
  }

  /** Art. 18 restriction, or its lifting, by the DPO. */
  async setRestricted(
    actor: Actor,
    id: string,
    restricted: boolean,
    reason: string,
  ): Promise<{ subjectId: string; restricted: boolean; changed: boolean }> {
    const scope = await this.deps.policy.subject(actor, 'subjects.restrict', id);
    const changed = await this.deps.lifecycle.setRestricted(scope.subject.id as SubjectId, restricted, actor, reason);
    return { subjectId: scope.subject.id, restricted, changed };
  }

  private async sightingsIn(id: SubjectId, scope: SubjectScope) {
    return (await mediaRepository.sightingsOf(this.deps.store.db, id)).filter((s) => inScope(scope, s.purposeId));
  }

  /** The disclosure itself, in the audit log: who saw which subjects, and what of them. */
  private async viewed(
    actor: Actor,
    subjectIds: readonly string[],
    purposeId: PurposeId | null,
    detail: Record<string, string | number | boolean>,
  ): Promise<void> {
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, { actor, action: 'subject.viewed', subjectIds, purposeId, detail }),
    );
  }
}

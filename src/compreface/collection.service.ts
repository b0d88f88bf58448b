import type { Actor } from '../auth/actor.js';
import type { ImageOptions } from '../face/analyzer.js';
import type { SubjectId, TemplateId } from '../ids.js';
import { VeilError, isVeilError } from '../errors.js';
import { needsConsent } from '../privacy/purpose.js';
import type { GalleryService } from '../gallery/gallery.service.js';
import type { FaceDataLifecycle } from '../gallery/face-data.lifecycle.js';
import { subjectRepository } from '../gallery/subject.repository.js';
import type { CoreDeps } from '../service-deps.js';
import { aliasRepository as aliases, type AliasRow } from './alias.repository.js';
import type { CompreFaceContext, CompreFaceKeys } from './compreface-keys.js';
import { aliasKey, nameCandidates, subjectName } from './lenient.js';

const MAX_NAME = 255;
const NOTE = 'deleted through the CompreFace-compatible API';

export interface PhotoSource {
  photo(
    actor: Actor,
    subjectId: string,
    opts: { template?: string | undefined; purpose?: string | undefined },
  ): Promise<Uint8Array>;
}

export const howToConsent = (purpose: string, name: string) =>
  `Subject '${name}' has no consent linked under '${purpose}', so no face can be added. The person consents in the portal ` +
  `and gives this name, or an operator records their consent with POST /v1/consents and "alias": "${name}".`;

/**
 * CompreFace's face collection over Veil's gallery: subject names are purpose-scoped aliases of
 * Veil subjects, faces are templates. Enrolling goes through GalleryService (consent or the key's
 * source reference), removing through FaceDataLifecycle (audited, aliases removed with the data).
 */
export class CompreFaceCollection {
  constructor(
    private readonly deps: CoreDeps & {
      keys: CompreFaceKeys;
      gallery: Pick<GalleryService, 'enroll'>;
      /** Kept enrollment photos as the console shows them (SubjectService.photo: scoped, audited as a view). */
      subjects: Partial<PhotoSource>;
      lifecycle: FaceDataLifecycle;
    },
  ) {}

  private now(): string {
    return this.deps.clock.now().toISOString();
  }

  /** The alias a client named, trying `+` as a space; undefined when there is none. */
  async find(ctx: CompreFaceContext, name: string): Promise<AliasRow | undefined> {
    for (const n of nameCandidates(name)) {
      const a = await aliases.get(this.deps.store.db, ctx.purpose.id, aliasKey(n));
      if (a) return a;
    }
    return undefined;
  }

  private async named(ctx: CompreFaceContext, name: string): Promise<AliasRow> {
    const a = await this.find(ctx, name);
    if (!a) throw new VeilError('UNKNOWN_SUBJECT', `Subject '${subjectName(name)}' not found.`);
    return a;
  }

  private checkName(name: string): string {
    const n = subjectName(name);
    if (!n) throw new VeilError('INVALID_INPUT', 'subject must not be empty.');
    if (n.length > MAX_NAME) throw new VeilError('INVALID_INPUT', `subject is longer than ${MAX_NAME} characters.`);
    if (/\p{Cc}/u.test(n)) throw new VeilError('INVALID_INPUT', 'subject must not contain control characters.');
    return n;
  }

  async addSubject(actor: Actor, name: string): Promise<{ subject: string }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const n = this.checkName(name);
    if (await this.find(ctx, n)) throw new VeilError('CONFLICT', `Subject '${n}' already exists.`);
    await this.deps.store.transaction(async (tx) => {
      await aliases.insert(tx, {
        purposeId: ctx.purpose.id,
        aliasKey: aliasKey(n),
        alias: n,
        subjectId: null,
        at: this.now(),
      });
      await this.deps.audit.append(tx, {
        actor,
        action: 'alias.set',
        purposeId: ctx.purpose.id,
        detail: { linked: false },
      });
    });
    return { subject: n };
  }

  async listSubjects(actor: Actor): Promise<{ subjects: string[] }> {
    const ctx = await this.deps.keys.context(actor, 'subjects.read');
    const all = await aliases.list(this.deps.store.db, ctx.purpose.id);
    await this.viewed(
      actor,
      ctx,
      all.map((a) => a.subjectId).filter((s): s is SubjectId => Boolean(s)),
      'names',
    );
    return { subjects: all.map((a) => a.alias) };
  }

  /** A new name; a name already taken is refused (CompreFace would merge two people into one). */
  async renameSubject(actor: Actor, from: string, to: string): Promise<{ updated: boolean }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const a = await this.named(ctx, from);
    const n = this.checkName(to);
    const taken = await this.find(ctx, n);
    if (taken && taken.aliasKey !== a.aliasKey)
      throw new VeilError('CONFLICT', `Subject '${n}' already exists; Veil never merges two subjects into one.`);
    await this.deps.store.transaction(async (tx) => {
      await aliases.rename(tx, ctx.purpose.id, a.aliasKey, { aliasKey: aliasKey(n), alias: n });
      await this.deps.audit.append(tx, {
        actor,
        action: 'alias.set',
        subjectIds: a.subjectId ? [a.subjectId] : [],
        purposeId: ctx.purpose.id,
        detail: { renamed: true },
      });
    });
    return { updated: true };
  }

  async deleteSubject(actor: Actor, name: string): Promise<{ subject: string }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const a = await this.named(ctx, name);
    await this.remove(actor, ctx, a);
    return { subject: a.alias };
  }

  async deleteAllSubjects(actor: Actor): Promise<{ deleted: number }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.purge');
    const all = await aliases.list(this.deps.store.db, ctx.purpose.id);
    for (const a of all) await this.remove(actor, ctx, a);
    return { deleted: all.length };
  }

  /**
   * A subject leaves this purpose: its name, templates and enrollment go through the lifecycle. The
   * person is erased entirely (with a certificate) only when no other purpose holds them.
   */
  private async remove(actor: Actor, ctx: CompreFaceContext, a: AliasRow): Promise<void> {
    if (!a.subjectId) {
      await this.deps.store.transaction(async (tx) => {
        await aliases.delete(tx, ctx.purpose.id, a.aliasKey);
        await this.deps.audit.append(tx, { actor, action: 'alias.removed', purposeId: ctx.purpose.id, detail: {} });
      });
      return;
    }
    const held = await subjectRepository.purposesOf(this.deps.store.db, a.subjectId);
    if (held.every((p) => p === ctx.purpose.id)) await this.deps.lifecycle.erase([a.subjectId], actor, null);
    else
      await this.deps.lifecycle.removePurpose(a.subjectId, ctx.purpose.id, actor, { reason: 'unenrolled', note: NOTE });
  }

  /**
   * A face for a named subject. Under consent: only for a name linked to a person's valid consent.
   * Otherwise: the key's source reference is recorded, and a new name becomes a new subject.
   */
  async addFace(
    actor: Actor,
    name: string,
    image: Uint8Array,
    opts?: ImageOptions,
  ): Promise<{ image_id: string; subject: string }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const n = this.checkName(name);
    const found = await this.find(ctx, n);
    const consent = needsConsent(ctx.purpose);
    if (consent && !found?.subjectId) throw new VeilError('CONSENT_REQUIRED', howToConsent(ctx.purpose.key, n));
    const r = await this.deps.gallery
      .enroll(
        actor,
        {
          purpose: ctx.purpose.id,
          subjectId: found?.subjectId ?? undefined,
          sourceReference: consent ? undefined : (ctx.key.sourceReference ?? undefined),
          images: [image],
        },
        opts,
      )
      .catch((e) => {
        if (isVeilError(e, 'CONSENT_REQUIRED'))
          throw new VeilError('CONSENT_REQUIRED', howToConsent(ctx.purpose.key, n));
        throw e;
      });
    if (!found?.subjectId) {
      await this.deps.store.transaction(async (tx) => {
        if (found) await aliases.link(tx, ctx.purpose.id, found.aliasKey, r.subjectId);
        else
          await aliases.insert(tx, {
            purposeId: ctx.purpose.id,
            aliasKey: aliasKey(n),
            alias: n,
            subjectId: r.subjectId,
            at: this.now(),
          });
        await this.deps.audit.append(tx, {
          actor,
          action: 'alias.set',
          subjectIds: [r.subjectId],
          purposeId: ctx.purpose.id,
          detail: { linked: true },
        });
      });
    }
    return { image_id: r.templates[0]!.templateId, subject: found?.alias ?? n };
  }

  async listFaces(
    actor: Actor,
    q: { page?: number | undefined; size?: number | undefined; subject?: string | undefined },
  ) {
    const ctx = await this.deps.keys.context(actor, 'subjects.read');
    const page = Math.max(0, Math.floor(q.page ?? 0));
    const size = Math.max(1, Math.min(1000, Math.floor(q.size ?? 20)));
    const a = q.subject ? await this.find(ctx, q.subject) : undefined;
    if (q.subject && !a) return { faces: [], page_number: page, page_size: size, total_pages: 0, total_elements: 0 };
    const db = this.deps.store.db;
    const total = await aliases.countFaces(db, ctx.purpose.id, a?.aliasKey);
    const rows = await aliases.faces(db, ctx.purpose.id, { aliasKey: a?.aliasKey, offset: page * size, limit: size });
    await this.viewed(actor, ctx, [...new Set(rows.map((r) => r.subjectId))], 'faces');
    return {
      faces: rows.map((r) => ({ image_id: r.templateId, subject: r.alias })),
      page_number: page,
      page_size: size,
      total_pages: Math.ceil(total / size),
      total_elements: total,
    };
  }

  /** A subject's faces (CompreFace clients send this to retrain): templates go, the name and consent stay. */
  async deleteFaces(actor: Actor, name: string | undefined): Promise<{ deleted: number }> {
    const ctx = await this.deps.keys.context(actor, name === undefined ? 'gallery.purge' : 'gallery.enroll');
    const a = name === undefined ? undefined : await this.find(ctx, name);
    if (name !== undefined && !a) return { deleted: 0 };
    const rows = await aliases.faces(this.deps.store.db, ctx.purpose.id, { aliasKey: a?.aliasKey });
    return { deleted: (await this.removeFaces(actor, rows)).length };
  }

  async deleteFace(actor: Actor, imageId: string): Promise<{ image_id: string; subject: string }> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const rows = await aliases.faces(this.deps.store.db, ctx.purpose.id, { templateIds: [imageId] });
    if (!rows.length) throw new VeilError('NOT_FOUND', `Image '${imageId}' not found.`);
    await this.removeFaces(actor, rows);
    return { image_id: rows[0]!.templateId, subject: rows[0]!.alias };
  }

  async deleteFacesById(actor: Actor, ids: readonly string[]): Promise<{ image_id: string; subject: string }[]> {
    const ctx = await this.deps.keys.context(actor, 'gallery.enroll');
    const rows = await aliases.faces(this.deps.store.db, ctx.purpose.id, { templateIds: [...new Set(ids)] });
    return (await this.removeFaces(actor, rows)).map((r) => ({ image_id: r.templateId, subject: r.alias }));
  }

  /** A kept enrollment photo (JPEG), where this purpose keeps photos. */
  async faceImage(actor: Actor, imageId: string): Promise<Buffer | Uint8Array> {
    const ctx = await this.deps.keys.context(actor, 'subjects.read');
    const row = (await aliases.faces(this.deps.store.db, ctx.purpose.id, { templateIds: [imageId] }))[0];
    if (!row) throw new VeilError('NOT_FOUND', `Image '${imageId}' not found.`);
    if (!ctx.purpose.keepSourceImages || !row.hasImage)
      throw new VeilError('NOT_FOUND', `Purpose '${ctx.purpose.key}' keeps no photos, only templates.`);
    if (!this.deps.subjects.photo) throw new VeilError('NOT_FOUND', 'Photos are not served by this build.');
    return this.deps.subjects.photo(actor, row.subjectId, { template: imageId, purpose: ctx.purpose.id });
  }

  /** Faces of a purpose, per subject, through the lifecycle's rectification path (audited per template). */
  private async removeFaces<R extends { templateId: string; subjectId: SubjectId }>(actor: Actor, rows: readonly R[]) {
    const bySubject = new Map<SubjectId, TemplateId[]>();
    for (const r of rows)
      bySubject.set(r.subjectId, [...(bySubject.get(r.subjectId) ?? []), r.templateId as TemplateId]);
    for (const [s, ids] of bySubject) await this.deps.lifecycle.removeTemplates(s, ids, actor, { reason: NOTE });
    return rows;
  }

  private async viewed(actor: Actor, ctx: CompreFaceContext, subjectIds: SubjectId[], view: string): Promise<void> {
    if (!subjectIds.length) return;
    await this.deps.store.transaction((tx) =>
      this.deps.audit.append(tx, {
        actor,
        action: 'subject.viewed',
        subjectIds,
        purposeId: ctx.purpose.id,
        detail: { view: `compreface-${view}`, results: subjectIds.length },
      }),
    );
  }
}

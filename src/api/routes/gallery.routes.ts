import { z } from 'zod';
import { ImageInput, formBool, formNumber, route } from '../route.js';
import { ConsentDoc, DetectDoc, EnrollDoc, IdentifyDoc, ReceiptDoc, VerifyDoc } from '../schemas.js';
import { VeilError } from '../../errors.js';
import { assessQuality } from '../../face/quality.js';
import { ConsentInputSchema } from '../../privacy/consent.js';
import type { ApiKey } from '../../auth/api-keys.js';

const Accountability = { caseRef: z.string().max(200).optional(), justification: z.string().max(2000).optional() };

/** Investigator keys search only with a case reference, whatever the purpose requires. */
function requireCaseRefFor(key: ApiKey | null, body: { caseRef?: string | undefined }): void {
  if (key?.role === 'investigator' && !body.caseRef?.trim())
    throw new VeilError('CASE_REF_REQUIRED', 'Investigator searches need a case reference.');
}

export const galleryRoutes = [
  route({
    method: 'POST',
    url: '/v1/consents',
    tag: 'consents',
    summary: 'Record consent (creates the subject unless one is named); returns the signed receipt',
    auth: ['operator'],
    body: ConsentInputSchema,
    response: z.object({ consent: ConsentDoc, receipt: ReceiptDoc }),
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor, purpose }) => {
      await purpose(body.purpose);
      const r = await veil.consents.give(body, actor);
      const { noticeText: _omit, ...consent } = r.consent;
      void _omit;
      return { consent, receipt: r.receipt };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/consents/:id',
    tag: 'consents',
    summary: 'A consent record with its history',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: ConsentDoc,
    handler: async ({ veil, params, purpose }) => {
      const c = await veil.consents.get(params.id);
      await purpose(c.purposeId);
      const { noticeText: _omit, ...rest } = c;
      void _omit;
      return rest;
    },
  }),
  route({
    method: 'GET',
    url: '/v1/consents/:id/receipt',
    tag: 'consents',
    summary: 'The signed consent receipt',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: ReceiptDoc,
    handler: async ({ veil, params, purpose }) => {
      await purpose((await veil.consents.get(params.id)).purposeId);
      return veil.consents.receipt(params.id);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/consents/:id/withdraw',
    tag: 'consents',
    summary: 'Withdraw consent: matching stops at once, templates are deleted',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: z.object({ consent: ConsentDoc, templatesDeleted: z.number() }),
    handler: async ({ veil, params, actor, purpose }) => {
      await purpose((await veil.consents.get(params.id)).purposeId);
      const r = await veil.consents.withdraw(params.id, actor);
      const { noticeText: _omit, ...consent } = r.consent;
      void _omit;
      return { consent, templatesDeleted: r.templatesDeleted };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/enroll',
    tag: 'gallery',
    summary: 'Enroll a subject under a purpose (consent record or source reference required)',
    auth: ['operator'],
    body: z.object({
      purpose: z.string(),
      subjectId: z.string().optional(),
      consentId: z.string().optional(),
      sourceReference: z.string().max(500).optional(),
      image: ImageInput.optional(),
      images: z.array(ImageInput).max(10).optional(),
    }),
    response: EnrollDoc,
    status: 201,
    idempotent: true,
    handler: async ({ veil, body, actor, purpose }) => {
      await purpose(body.purpose);
      const images = [...(body.image ? [body.image] : []), ...(body.images ?? [])];
      if (!images.length) throw new VeilError('INVALID_INPUT', 'Send the photo as `image` (or several as `images`).');
      const r = await veil.gallery.enroll(
        {
          purpose: body.purpose,
          images,
          ...(body.subjectId ? { subjectId: body.subjectId } : {}),
          ...(body.consentId ? { consentId: body.consentId } : {}),
          ...(body.sourceReference ? { sourceReference: body.sourceReference } : {}),
        },
        actor,
      );
      return {
        ...r,
        templates: r.templates.map((t) => ({
          templateId: t.templateId,
          quality: {
            faceSize: Math.round(t.quality.faceSize),
            sharpness: Math.round(t.quality.sharpness),
            yaw: Math.round(t.quality.yaw),
          },
        })),
      };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/identify',
    tag: 'gallery',
    summary: '1:N search of a purpose; unknown is an answer; the probe is never stored',
    auth: ['operator', 'investigator'],
    body: z.object({
      purpose: z.string(),
      image: ImageInput,
      k: formNumber().int().min(1).max(50).optional(),
      threshold: formNumber().min(-1).max(1).optional(),
      ...Accountability,
    }),
    response: IdentifyDoc,
    handler: async ({ veil, body, actor, key, purpose }) => {
      await purpose(body.purpose);
      requireCaseRefFor(key, body);
      return veil.gallery.identify(body, actor);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/verify',
    tag: 'gallery',
    summary: '1:1 check of a photo against a subject or a second photo',
    auth: ['operator', 'investigator'],
    body: z.object({
      purpose: z.string(),
      image: ImageInput,
      subjectId: z.string().optional(),
      secondImage: ImageInput.optional(),
      threshold: formNumber().min(-1).max(1).optional(),
      ...Accountability,
    }),
    response: VerifyDoc,
    handler: async ({ veil, body, actor, key, purpose }) => {
      await purpose(body.purpose);
      requireCaseRefFor(key, body);
      return veil.gallery.verify(body, actor);
    },
  }),
  route({
    method: 'POST',
    url: '/v1/detect',
    tag: 'gallery',
    summary: 'Faces in a photo with boxes, landmarks and quality (nothing stored)',
    auth: ['operator', 'investigator'],
    body: z.object({ image: ImageInput }),
    response: DetectDoc,
    handler: async ({ engine, body }) => {
      const r = await engine.detect(body.image);
      return {
        width: r.width,
        height: r.height,
        faces: r.faces.map((f) => {
          const v = assessQuality(f.quality);
          return {
            box: f.box,
            score: f.score,
            landmarks: [...f.landmarks],
            quality: { ...f.quality, enrollable: v.acceptable, reasons: v.reasons.map((x) => x.code) },
          };
        }),
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/subjects/:id',
    tag: 'subjects',
    summary: 'A subject: state, consents, template metadata, sightings count',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: z.record(z.string(), z.unknown()),
    handler: async ({ veil, params }) => {
      const s = await veil.store.db
        .selectFrom('subjects')
        .select(['id', 'state', 'region', 'created_at', 'updated_at'])
        .where('id', '=', params.id)
        .executeTakeFirst();
      if (!s) throw new VeilError('UNKNOWN_SUBJECT', `No subject '${params.id}'.`);
      const templates = await veil.store.db
        .selectFrom('templates')
        .select(['id', 'purpose_id', 'model', 'quality', 'created_at'])
        .where('subject_id', '=', params.id)
        .execute();
      const consents = (await veil.consents.forSubject(s.id as never)).map(({ noticeText: _n, ...c }) => (void _n, c));
      const sightings = await veil.ingest.sightings(s.id as never);
      return {
        ...s,
        templates: templates.map((t) => ({ ...t, quality: JSON.parse(t.quality) })),
        consents,
        sightings: sightings.length,
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/subjects/:id/sightings',
    tag: 'subjects',
    summary: 'Photos the subject was matched in',
    auth: ['operator', 'dpo'],
    params: z.object({ id: z.string() }),
    response: z.object({ items: z.array(z.record(z.string(), z.unknown())), nextCursor: z.null() }),
    handler: async ({ veil, params }) => ({ items: await veil.ingest.sightings(params.id as never), nextCursor: null }),
  }),
  route({
    method: 'POST',
    url: '/v1/subjects/:id/restrict',
    tag: 'subjects',
    summary: 'Restrict (Art. 18) or lift the restriction',
    auth: ['dpo'],
    params: z.object({ id: z.string() }),
    body: z.object({ restricted: formBool(), reason: z.string().min(3) }),
    response: z.object({ subjectId: z.string(), restricted: z.boolean() }),
    handler: async ({ veil, params, body, actor }) => {
      await veil.gallery.setRestricted(params.id, body.restricted, actor, body.reason);
      return { subjectId: params.id, restricted: body.restricted };
    },
  }),
];

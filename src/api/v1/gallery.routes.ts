import { z } from 'zod';
import { ImageInput, formBool, formNumber, route, visible } from '../route.js';
import { subjectPhotoRoutes } from './subject-photos.routes.js';
import {
  ConsentDoc,
  DetectDoc,
  EnrollDoc,
  IdentifyDoc,
  ReceiptDoc,
  SightingDoc,
  SubjectDoc,
  SubjectListItemDoc,
  VerifyDoc,
} from './schemas.js';
import { VeilError } from '../../errors.js';
import { enrollability } from '../../gallery/enrollment-gate.js';
import { ConsentInputSchema } from '../../privacy/consent.js';
import { summary } from '../../privacy/consent.service.js';
import { qualityNumbers } from '../../gallery/numbers.js';

const Accountability = { caseRef: visible(200).optional(), justification: visible(2000).optional() };
const Id = z.object({ id: z.string() });
/** A face's box, as MULTIPLE_FACES lists them: the face to enroll on a retry. */
const FaceBox = z.object({ x: z.number(), y: z.number(), width: z.number().positive(), height: z.number().positive() });

export const galleryRoutes = [
  route({
    method: 'POST',
    url: '/v1/consents',
    tag: 'consents',
    summary: 'Record consent (creates the subject unless one is named); returns the signed receipt',
    access: 'key',
    body: ConsentInputSchema,
    response: z.object({ consent: ConsentDoc, receipt: ReceiptDoc }),
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body }) => {
      const r = await services.consents.give(actor, body);
      return { consent: summary(r.consent), receipt: r.receipt };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/consents/:id',
    tag: 'consents',
    summary: 'A consent record with its history',
    access: 'key',
    params: Id,
    response: ConsentDoc,
    handler: async ({ services, actor, params }) => summary(await services.consents.get(actor, params.id)),
  }),
  route({
    method: 'GET',
    url: '/v1/consents/:id/receipt',
    tag: 'consents',
    summary: 'The signed consent receipt',
    access: 'key',
    params: Id,
    response: ReceiptDoc,
    handler: async ({ services, actor, params }) => services.consents.receipt(actor, params.id),
  }),
  route({
    method: 'POST',
    url: '/v1/consents/:id/withdraw',
    tag: 'consents',
    summary: 'Withdraw consent: matching stops at once, templates are deleted',
    access: 'key',
    params: Id,
    response: z.object({ consent: ConsentDoc, templatesDeleted: z.number() }),
    handler: async ({ services, actor, params }) => {
      const r = await services.consents.withdraw(actor, params.id);
      return { consent: summary(r.consent), templatesDeleted: r.templatesDeleted };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/enroll',
    tag: 'gallery',
    summary:
      "Enroll a subject under a purpose (consent record or source reference required); a photo's only or clearly dominant face is used, else MULTIPLE_FACES lists the boxes to pick from (face, faces); gate: import (default) or selfie",
    access: 'key',
    photo: true,
    body: z.object({
      purpose: z.string(),
      subjectId: z.string().optional(),
      consentId: z.string().optional(),
      sourceReference: visible(500).optional(),
      image: ImageInput.optional(),
      images: z.array(ImageInput).max(10).optional(),
      face: z.union([formNumber().int().min(0), FaceBox]).optional(),
      faces: z
        .array(z.union([z.number().int().min(0), FaceBox, z.null()]))
        .max(10)
        .optional(),
      gate: z.enum(['import', 'selfie']).optional(),
    }),
    response: EnrollDoc,
    status: 201,
    idempotent: true,
    handler: async ({ services, actor, body, images: formats }) => {
      const images = [...(body.image ? [body.image] : []), ...(body.images ?? [])];
      if (!images.length) throw new VeilError('INVALID_INPUT', 'Send the photo as `image` (or several as `images`).');
      const faces = body.faces ?? (body.face === undefined ? undefined : [body.face]);
      const r = await services.gallery.enroll(actor, { ...body, images, faces }, formats);
      return {
        ...r,
        templates: r.templates.map((t) => ({
          templateId: t.templateId,
          quality: qualityNumbers(t.quality),
          box: t.box,
          face: t.face,
        })),
      };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/identify',
    tag: 'gallery',
    summary:
      '1:N search of a purpose, every face of the probe (at most 20, largest first); unknown is an answer; the probe is never stored',
    access: 'key',
    photo: true,
    body: z.object({
      purpose: z.string(),
      image: ImageInput,
      k: formNumber().int().min(1).max(50).optional(),
      maxFaces: formNumber().int().min(1).max(20).optional(),
      threshold: formNumber().max(1).optional(),
      ...Accountability,
    }),
    response: IdentifyDoc,
    handler: async ({ services, actor, body, images }) => {
      const r = await services.search.identify(actor, body, images);
      return {
        ...r,
        faces: r.faces.map((f) => ({
          face: f.face,
          box: f.box,
          detectorScore: f.detectorScore,
          decision: f.decision,
          candidates: f.candidates,
        })),
      };
    },
  }),
  route({
    method: 'POST',
    url: '/v1/verify',
    tag: 'gallery',
    summary: '1:1 check of a photo against a subject or a second photo',
    access: 'key',
    photo: true,
    body: z.object({
      purpose: z.string(),
      image: ImageInput,
      subjectId: z.string().optional(),
      secondImage: ImageInput.optional(),
      threshold: formNumber().max(1).optional(),
      ...Accountability,
    }),
    response: VerifyDoc,
    handler: async ({ services, actor, body, images }) => services.search.verify(actor, body, images),
  }),
  route({
    method: 'POST',
    url: '/v1/detect',
    tag: 'gallery',
    summary: 'Faces in a photo with boxes, landmarks and quality (nothing stored)',
    access: 'key',
    photo: true,
    body: z.object({ image: ImageInput }),
    response: DetectDoc,
    handler: async ({ services, actor, body, images }) => {
      const r = await services.gallery.detect(actor, body.image, images);
      return {
        width: r.width,
        height: r.height,
        faces: r.faces.map((f) => {
          return {
            box: f.box,
            score: f.score,
            landmarks: [...f.landmarks],
            quality: { ...f.quality, ...enrollability(f.quality) },
          };
        }),
      };
    },
  }),
  route({
    method: 'GET',
    url: '/v1/subjects',
    tag: 'subjects',
    summary:
      "Subjects under this key's purposes, newest first: search by id, consent id, source reference or contact email; filter by purpose and state (each page viewed is audited)",
    access: 'key',
    query: z.object({
      q: z.string().max(320).optional(),
      purpose: z.string().max(100).optional(),
      state: z.enum(['active', 'restricted']).optional(),
      cursor: z.string().max(500).optional(),
      limit: formNumber().int().min(1).max(100).default(25),
    }),
    response: z.object({ items: z.array(SubjectListItemDoc), nextCursor: z.string().nullable(), total: z.number() }),
    handler: async ({ services, actor, query }) => services.subjects.list(actor, query),
  }),
  route({
    method: 'GET',
    url: '/v1/subjects/:id',
    tag: 'subjects',
    summary:
      "A subject under this key's purposes: state, purposes, consents with their history, templates' quality, sightings count, searches that returned them (the view is audited)",
    access: 'key',
    params: Id,
    response: SubjectDoc,
    handler: async ({ services, actor, params }) => services.subjects.get(actor, params.id),
  }),
  route({
    method: 'GET',
    url: '/v1/subjects/:id/sightings',
    tag: 'subjects',
    summary: "Photos the subject was matched in, under this key's purposes",
    access: 'key',
    params: Id,
    response: z.object({ items: z.array(SightingDoc), nextCursor: z.null() }),
    handler: async ({ services, actor, params }) => ({
      items: await services.subjects.sightings(actor, params.id),
      nextCursor: null,
    }),
  }),
  route({
    method: 'POST',
    url: '/v1/subjects/:id/restrict',
    tag: 'subjects',
    summary: 'Restrict (Art. 18) or lift the restriction',
    access: 'key',
    params: Id,
    body: z.object({
      restricted: formBool(),
      reason: visible(2000).refine((v) => v.trim().length >= 3, 'at least 3 characters'),
    }),
    response: z.object({ subjectId: z.string(), restricted: z.boolean(), changed: z.boolean() }),
    handler: async ({ services, actor, params, body }) =>
      services.subjects.setRestricted(actor, params.id, body.restricted, body.reason),
  }),
  ...subjectPhotoRoutes,
];

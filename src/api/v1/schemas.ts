import { z } from 'zod';
import { LAWFUL_BASES, ART9_CONDITIONS } from '../../privacy/purpose.js';

const Box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

export const PurposeDoc = z.object({
  id: z.string(),
  key: z.string(),
  name: z.string(),
  description: z.string(),
  lawfulBasis: z.enum(Object.keys(LAWFUL_BASES) as [string, ...string[]]),
  art9Condition: z.enum(Object.keys(ART9_CONDITIONS) as [string, ...string[]]),
  legalReference: z.string().nullable(),
  retention: z.string(),
  recipients: z.array(z.string()),
  requiresCaseRef: z.boolean(),
  keepSourceImages: z.boolean(),
  confirmations: z.number().meta({ description: 'Different people who must confirm each match (0: none)' }),
  fpir: z.number().meta({ description: 'Target false-positive identification rate of its identifications' }),
  status: z.enum(['active', 'suspended']),
  createdAt: z.string(),
  templates: z.number().optional(),
});

import { ConfirmationDoc, ContestedDoc } from './search.schemas.js';
export { Candidate, ConfirmationDoc, FaceResultDoc, IdentifyDoc, VerifyDoc } from './search.schemas.js';

export const FaceDoc = z.object({
  box: Box,
  score: z.number(),
  landmarks: z.array(z.object({ x: z.number(), y: z.number() })),
  quality: z.record(z.string(), z.union([z.number(), z.boolean(), z.array(z.string())])),
});

export const DetectDoc = z.object({ width: z.number(), height: z.number(), faces: z.array(FaceDoc) });

export const EnrollDoc = z.object({
  subjectId: z.string(),
  templates: z.array(
    z.object({
      templateId: z.string(),
      quality: z.record(z.string(), z.number()),
      box: Box.meta({ description: 'The face enrolled' }),
      face: z
        .enum(['only', 'dominant', 'picked'])
        .meta({ description: 'The only face of the photo, the one that clearly dominates it, or the one picked' }),
    }),
  ),
  possibleDuplicates: z.array(z.object({ subjectId: z.string(), similarity: z.number() })),
});

export const ConsentDoc = z.object({
  id: z.string(),
  subjectId: z.string(),
  purposeId: z.string(),
  noticeVersion: z.string(),
  noticeHash: z.string(),
  givenAt: z.string(),
  method: z.string(),
  collector: z.string(),
  jurisdiction: z.string(),
  withdrawalMethod: z.string(),
  state: z.enum(['given', 'withdrawn', 'expired']),
  stateAt: z.string(),
  expiresAt: z.string().nullable(),
  history: z.array(z.object({ state: z.string(), at: z.string(), actor: z.string() })),
});

const SubjectState = z.enum(['active', 'restricted', 'erased']);

export const SubjectDoc = z.object({
  id: z.string(),
  state: SubjectState,
  region: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  purposes: z.array(
    z.object({
      id: z.string(),
      key: z.string(),
      name: z.string(),
      status: z.string(),
      keepsPhotos: z.boolean(),
      consentId: z.string().nullable(),
      sourceReference: z.string().nullable(),
      enrolledAt: z.string().nullable(),
      lastInteractionAt: z.string().nullable(),
    }),
  ),
  templates: z.array(
    z.object({
      id: z.string(),
      purposeId: z.string(),
      model: z.string(),
      quality: z.record(z.string(), z.number()),
      createdAt: z.string(),
      hasPhoto: z.boolean(),
    }),
  ),
  consents: z.array(ConsentDoc),
  sightings: z.number(),
  searches: z.array(
    z.object({
      searchId: z.string(),
      kind: z.string(),
      purposeId: z.string(),
      at: z.string(),
      recipient: z.string(),
      caseRef: z.string().nullable(),
      justification: z.string().nullable(),
      similarity: z.number(),
      rank: z.number(),
      confirmation: ConfirmationDoc.optional(),
    }),
  ),
});

export const SubjectListItemDoc = z.object({
  id: z.string(),
  state: SubjectState,
  createdAt: z.string(),
  purposes: z.array(z.string()),
  consents: z.array(z.object({ id: z.string(), purpose: z.string(), state: z.string() })),
  templates: z.number(),
  lastInteractionAt: z.string().nullable(),
});

export const ReceiptDoc = z
  .record(z.string(), z.unknown())
  .meta({ description: 'Signed consent receipt (veil.consent-receipt.v1)' });

export const IngestDoc = z.union([
  z.object({
    file: z.string(),
    status: z.literal('ingested'),
    mediaId: z.string(),
    faces: z.number(),
    sightings: z.number(),
  }),
  z.object({ file: z.string(), status: z.literal('skipped'), mediaId: z.string(), reason: z.string() }),
  z.object({ file: z.string(), status: z.literal('failed'), code: z.string(), message: z.string() }),
]);

export const RightsRequestDoc = z.object({
  id: z.string(),
  kind: z.string(),
  state: z.string(),
  language: z.string(),
  receivedAt: z.string(),
  dueAt: z.string(),
  extendedDueAt: z.string().nullable(),
  extensionReason: z.string().nullable(),
  verifiedAt: z.string().nullable(),
  verification: z.string().nullable(),
  matchedSubjects: z.array(z.string()),
  review: z
    .object({
      state: z.enum(['pending', 'approved', 'rejected']),
      items: z.array(
        z.object({
          subjectId: z.string(),
          why: z.enum(['face-only', 'non-consent-purpose']),
          similarity: z.number().nullable(),
          decision: z.enum(['approved', 'rejected']).optional(),
        }),
      ),
      approved: z.array(z.string()),
      liveness: z.string(),
      note: z.string().nullable(),
      by: z.string().nullable(),
      at: z.string().nullable(),
    })
    .nullable(),
  outcome: z.record(z.string(), z.unknown()).nullable(),
  denialReason: z.string().nullable(),
  denialGround: z.string().nullable(),
  closedAt: z.string().nullable(),
  /** The authorized agent that filed it for the person (Data Rights Protocol); null: the person did. */
  agentId: z.string().nullable(),
  /** A contest: the identifications that returned the person and where each match stands. */
  contested: z.array(ContestedDoc).optional(),
  daysLeft: z.number(),
  overdue: z.boolean(),
  history: z.array(z.object({ state: z.string(), at: z.string(), actor: z.string(), note: z.string().nullable() })),
});

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const TreeHeadDoc = z.object({
  size: z.number(),
  rootHash: z.string(),
  timestamp: z.string(),
  keyId: z.string(),
  nextKeyId: z.string().optional(),
  signature: z.string(),
});

export const SightingDoc = z.object({
  id: z.string(),
  mediaId: z.string(),
  box: Box,
  similarity: z.number(),
  purposeId: z.string(),
  ingestedAt: z.string(),
  filename: z.string(),
});

export const MediaFaceDoc = z.object({
  id: z.string(),
  box: Box,
  detScore: z.number(),
  subjectId: z.string().nullable(),
  similarity: z.number().nullable(),
});

export const AuditEntryDoc = z.object({
  seq: z.number(),
  time: z.string(),
  actor: z.object({ kind: z.string(), id: z.string() }),
  action: z.string(),
  subjectIds: z.array(z.string()),
  purposeId: z.string().nullable(),
  detail: z.record(z.string(), z.unknown()),
  prev: z.string(),
});

export const ApiKeyDoc = z.object({
  id: z.string(),
  name: z.string(),
  role: z.string(),
  purposes: z.array(z.string()),
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});

export const ScheduleDoc = z.object({
  purpose: z.string(),
  name: z.string(),
  retention: z.string(),
  status: z.string(),
});

export const OrderDoc = z.object({
  id: z.string(),
  authority: z.string(),
  reference: z.string(),
  receivedAt: z.string(),
  deadline: z.string(),
  demands: z.array(z.object({ type: z.string(), detail: z.string(), purpose: z.string().optional() })),
  countsAtReceipt: z.record(z.string(), z.number()),
  status: z.enum(['open', 'closed']),
  closedAt: z.string().nullable(),
  overdue: z.boolean(),
  actions: z.array(
    z.object({ seq: z.number(), kind: z.string(), description: z.string(), auditSeq: z.number(), at: z.string() }),
  ),
});

export const BreachDoc = z.object({
  id: z.string(),
  discoveredAt: z.string(),
  nature: z.string(),
  categories: z.array(z.string()),
  approxPeople: z.number(),
  approxRecords: z.number(),
  consequences: z.string(),
  measures: z.string(),
  notifyBy: z.string(),
  notifiedAt: z.string().nullable(),
  notificationRef: z.string().nullable(),
  peopleInformed: z.boolean().nullable(),
  peopleDecision: z.string().nullable(),
  overdue: z.boolean(),
});

import { z } from 'zod';

const Box = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });

/** A match's state under the two-person rule (EU AI Act Art. 14(5)). */
export const ConfirmationDoc = z.object({
  required: z.number().meta({ description: 'Different people who must confirm the match before it counts' }),
  state: z.enum(['not-required', 'unconfirmed', 'confirmed', 'rejected']),
  confirmations: z.number().meta({ description: 'Different people who confirmed it so far' }),
});

export const Candidate = z.object({
  subjectId: z.string(),
  similarity: z.number(),
  rank: z.number(),
  estimatedFalseMatchRate: z.number(),
  confirmation: ConfirmationDoc.optional().meta({
    description:
      "Present when the purpose requires confirmations: until that many different keys confirmed it, the match is 'unconfirmed' and must not be acted on",
  }),
});

/** One face of an identify probe: where it is and what its own search found. */
export const FaceResultDoc = z.object({
  face: z.number().meta({ description: 'Position in faces (largest face first), as the search record keeps it' }),
  box: Box,
  detectorScore: z.number(),
  decision: z.enum(['match', 'no-match']),
  candidates: z.array(Candidate),
});

export const IdentifyDoc = z.object({
  searchId: z.string(),
  purpose: z.string(),
  facesInProbe: z.number().meta({ description: 'Faces found in the probe; at most maxFaces of them are searched' }),
  threshold: z.number().meta({
    description:
      "The decision threshold used: the open-set rule's for this gallery size and FPIR (docs/accuracy.md), or a stricter one asked for",
  }),
  gallerySize: z.number().meta({ description: 'Matchable templates searched under the purpose' }),
  fpir: z.number().meta({
    description:
      'The false-positive identification rate the threshold targets: the chance that a person not in the gallery is returned, per face',
  }),
  decision: z.enum(['match', 'no-match']).meta({ description: "The largest face's decision" }),
  candidates: z.array(Candidate).meta({ description: "The largest face's candidates" }),
  faces: z.array(FaceResultDoc).meta({ description: 'Every face searched, largest first, each decided on its own' }),
  model: z.string(),
});

export const VerifyDoc = z.object({
  searchId: z.string(),
  similarity: z.number(),
  threshold: z.number(),
  match: z.boolean(),
  model: z.string(),
});

/** A match a person contests, as the DPO sees it in the rights queue. */
export const ContestedDoc = z.object({
  subjectId: z.string(),
  searchId: z.string(),
  face: z.number(),
  purpose: z.string(),
  at: z.string(),
  by: z.string().meta({ description: 'Who made the search: kind and id' }),
  rank: z.number(),
  similarity: z.number(),
  confirmation: ConfirmationDoc,
});

import { z } from 'zod';
import { route } from '../route.js';

const ModelStatusDoc = z.object({
  active: z.string().meta({ description: 'The active embedder (VEIL_EMBEDDER): only its templates are matched' }),
  models: z.array(z.object({ model: z.string(), templates: z.number(), withPhoto: z.number(), active: z.boolean() })),
  stale: z.number().meta({ description: 'Templates of other models: not matched until re-embedded or re-enrolled' }),
  suppressions: z
    .array(z.object({ model: z.string(), entries: z.number(), active: z.boolean() }))
    .meta({ description: "Do-not-enroll entries per model id; only the active model's block anyone" }),
  staleSuppressions: z.number().meta({
    description:
      'Do-not-enroll entries of other models: they block nobody now and cannot be re-embedded (no photo kept)',
  }),
  calibration: z
    .object({
      threshold: z
        .number()
        .meta({ description: "The active model's 1:1 threshold: the floor of every identification" }),
      strictThreshold: z.number().meta({ description: 'Where a face is an identity proof (rights requests, portal)' }),
      tail: z
        .object({
          model: z.string(),
          u: z.number(),
          zeta: z.number(),
          xi: z.number(),
          sigma: z.number(),
          comparisons: z.number(),
          fittedOn: z.object({
            dataset: z.string(),
            identities: z.number(),
            photos: z.number(),
            impostorPairs: z.number(),
            at: z.string(),
          }),
        })
        .meta({ description: "The active model's impostor tail (open-set rule) and the data it was fitted on" }),
    })
    .meta({ description: 'The numbers the active model decides with (docs/accuracy.md)' }),
});

const ReembedDoc = z.object({
  model: z.string(),
  dryRun: z.boolean(),
  reembedded: z.number(),
  held: z.number().meta({ description: 'Templates of restricted subjects, left for a run after the restriction' }),
  reenroll: z.array(
    z.object({
      subjectId: z.string(),
      purpose: z.string(),
      consentId: z.string().nullable(),
      sourceReference: z.string().nullable(),
      templates: z.number(),
      reasons: z.array(z.string()),
    }),
  ),
  suppressionsNotCarried: z
    .number()
    .meta({ description: 'Do-not-enroll entries of other models, which no run can carry over (no photo kept)' }),
});

/** Switching the active embedder: admin keys bound to every purpose (the CLI: veil faces status|reembed). */
export const modelRoutes = [
  route({
    method: 'GET',
    url: '/v1/models',
    tag: 'models',
    summary: 'Templates per embedder id; only the active one is matched',
    access: 'key',
    response: ModelStatusDoc,
    handler: async ({ services, actor }) => services.models.status(actor),
  }),
  route({
    method: 'POST',
    url: '/v1/models/reembed',
    tag: 'models',
    summary:
      "Re-embed other models' templates from kept photos under the active model; list who must re-enroll (large galleries: veil faces reembed)",
    access: 'key',
    body: z.object({ dryRun: z.boolean().default(false) }).strict(),
    response: ReembedDoc,
    handler: async ({ services, actor, body }) => services.models.reembed(actor, { dryRun: body.dryRun }),
  }),
];

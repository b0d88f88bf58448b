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

const RunSummaryDoc = z.object({
  id: z.string(),
  state: z.enum(['running', 'done', 'failed', 'cancelled']),
  model: z.string().meta({ description: 'The model it re-embeds under (the active one when it started)' }),
  dryRun: z.boolean(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z
    .object({ done: z.number(), total: z.number() })
    .meta({ description: 'Templates looked at, of the templates of other models there were when it started' }),
  cancelRequested: z.boolean(),
  error: z
    .object({ code: z.string(), message: z.string() })
    .optional()
    .meta({ description: 'Failed: why (JOB_ABANDONED: its process stopped; a new start carries on)' }),
});
const RunDoc = RunSummaryDoc.extend({
  report: ReembedDoc.optional().meta({ description: 'Done: the report; cancelled: what it did before it stopped' }),
});
const RunId = z.object({ id: z.string().min(1).max(64) });

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
      "Start re-embedding other models' templates from kept photos under the active model, in the background; poll the run for its report (one run at a time: 409 JOB_RUNNING names the running one)",
    access: 'key',
    status: 202,
    body: z
      .object({
        dryRun: z.boolean().default(false),
        model: z.string().min(1).max(200).optional().meta({
          description:
            'The model to re-embed toward: 409 MODEL_MISMATCH from a process running another (a rolling switch). Without it, a run goes toward the model of the latest run that changed templates',
        }),
      })
      .strict(),
    response: RunDoc,
    handler: async ({ services, actor, body }) =>
      services.models.startReembed(actor, { dryRun: body.dryRun, model: body.model }),
  }),
  route({
    method: 'GET',
    url: '/v1/models/reembed',
    tag: 'models',
    summary: 'The latest re-embedding runs, newest first (their reports: by id)',
    access: 'key',
    response: z.object({ items: z.array(RunSummaryDoc) }),
    handler: async ({ services, actor }) => ({ items: await services.models.reembedRuns(actor) }),
  }),
  route({
    method: 'GET',
    url: '/v1/models/reembed/:id',
    tag: 'models',
    summary: 'A re-embedding run: its state and progress, its report once done, its error code if it failed',
    access: 'key',
    params: RunId,
    response: RunDoc,
    handler: async ({ services, actor, params }) => services.models.reembedRun(actor, params.id),
  }),
  route({
    method: 'DELETE',
    url: '/v1/models/reembed/:id',
    tag: 'models',
    summary:
      'Cancel a running re-embedding run: it stops before its next template (each one already done stays); a new start carries on',
    access: 'key',
    status: 202,
    params: RunId,
    response: RunDoc,
    handler: async ({ services, actor, params }) => services.models.cancelReembed(actor, params.id),
  }),
];

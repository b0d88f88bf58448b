import { z } from 'zod';
import type { FastifyRequest } from 'fastify';
import { VeilError } from '../../errors.js';
import { ImageInput } from '../route.js';
import { flag, num, plugins, unfoldQuery } from '../../compreface/lenient.js';
import type { FaceCallOptions } from '../../compreface/recognition.service.js';

/** Queries are read leniently (compreface/lenient.ts), never refused for an unknown parameter. */
export const AnyQuery = z.record(z.string(), z.unknown());
export const Name = z.object({ subject: z.string() }).passthrough();
export const ImageBody = z.object({ file: ImageInput }).passthrough();
export const TwoImages = z.object({ source_image: ImageInput, target_image: ImageInput }).passthrough();

export function query(req: FastifyRequest): Record<string, string> {
  return unfoldQuery((req.query ?? {}) as Record<string, unknown>);
}

function threshold(v: unknown): number | undefined {
  const n = num(v);
  if (n !== undefined && (n < 0 || n > 1))
    throw new VeilError('INVALID_INPUT', 'det_prob_threshold must be between 0.0 and 1.0.');
  return n;
}

/** limit, prediction_count, det_prob_threshold, face_plugins, status. */
export function faceOptions(q: Record<string, string>): FaceCallOptions {
  return {
    limit: num(q['limit']),
    predictionCount: num(q['prediction_count']),
    detProbThreshold: threshold(q['det_prob_threshold']),
    plugins: plugins(q['face_plugins']),
    status: flag(q['status']) ?? false,
  };
}

import type { FastifyRequest } from 'fastify';
import type { ErrorCode } from '../../errors.js';
import { STATUS } from '../problem.js';
import type { Surface } from '../surface.js';
import { collectionRoutes } from './collection.routes.js';
import { recognitionRoutes } from './recognition.routes.js';

/**
 * CompreFace's error codes (its CommonExceptionCode) for Veil's: 20 missing key, 26 validation,
 * 28 no face, 31 several faces, 42 subject not found, 43 subject exists, 44 image not found. Veil's
 * refusals CompreFace has no code for (consent, quality, restriction...) are code 0 with Veil's code
 * in `veil_code`, which CompreFace clients ignore and show `message`.
 */
const CODES: Partial<Record<ErrorCode, [status: number, code: number]>> = {
  INVALID_INPUT: [400, 26],
  NO_FACE: [400, 28],
  MULTIPLE_FACES: [400, 31],
  UNKNOWN_SUBJECT: [404, 42],
  CONFLICT: [400, 43],
  NOT_FOUND: [404, 44],
  UNSUPPORTED_IMAGE_FORMAT: [400, 21],
  INVALID_IMAGE: [400, 21],
  CONSENT_REQUIRED: [400, 0],
  CONSENT_WITHDRAWN: [400, 0],
  SOURCE_REFERENCE_REQUIRED: [400, 0],
  LOW_QUALITY: [400, 0],
  SUBJECT_SUPPRESSED: [400, 0],
  SUBJECT_RESTRICTED: [400, 0],
  SUBJECT_ERASED: [400, 42],
  FORBIDDEN: [403, 32],
};

/** The key as CompreFace clients send it. */
function apiKey(req: FastifyRequest): string | undefined {
  const h = req.headers['x-api-key'];
  const v = Array.isArray(h) ? h[0] : h;
  return v?.trim() || undefined;
}

/**
 * The CompreFace-compatible surface under /api/v1: the key in `x-api-key`, every error (401, 413 and
 * 429 included) as `{ message, code }` with CompreFace's statuses and codes, plus Veil's `veil_code`.
 */
export const compreFaceSurface: Surface = {
  name: 'compreface',
  routes: [...collectionRoutes, ...recognitionRoutes],
  credential: apiKey,
  setup(scope) {
    // Clients send `Content-Type: application/json` on bodiless DELETEs: an empty JSON body is no body.
    scope.removeContentTypeParser('application/json');
    scope.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
      const s = String(body).trim();
      if (!s) return done(null, undefined);
      try {
        done(
          null,
          JSON.parse(s, (k, v: unknown) => (k === '__proto__' || k === 'constructor' ? undefined : v)),
        );
      } catch {
        done(Object.assign(new Error('The body is not valid JSON.'), { statusCode: 400 }), undefined);
      }
    });
  },
  render(code, message, req) {
    if (code === 'UNAUTHENTICATED') {
      const missing = !apiKey(req);
      return {
        status: 401,
        type: 'application/json',
        body: {
          message: missing ? 'Missing header: x-api-key' : 'The API key is not valid.',
          code: missing ? 20 : 10,
          veil_code: code,
        },
      };
    }
    const [status, cf] = CODES[code] ?? [STATUS[code], 0];
    return { status, type: 'application/json', body: { message, code: cf, veil_code: code } };
  },
};

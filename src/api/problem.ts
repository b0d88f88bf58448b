import type { ErrorCode } from '../errors.js';

/** The one place where domain error codes become HTTP statuses (RFC 9457 problem details). */
export const STATUS: Record<ErrorCode, number> = {
  INVALID_IMAGE: 422,
  UNSUPPORTED_IMAGE_FORMAT: 415,
  IMAGE_TOO_LARGE: 413,
  NO_FACE: 422,
  MULTIPLE_FACES: 422,
  LOW_QUALITY: 422,
  LIVENESS_FAILED: 422,
  INVALID_INPUT: 400,
  NOT_FOUND: 404,
  MODEL_MISSING: 500,
  MODEL_CORRUPT: 500,
  MODEL_UNCALIBRATED: 500,
  CALIBRATION_SET_TOO_SMALL: 422,
  ENGINE_OVERLOADED: 429,
  ENGINE_TIMEOUT: 503,
  AUDIT_INVALID_PROOF: 422,
  AUDIT_BAD_SIGNATURE: 422,
  AUDIT_TAMPERED: 422,
  AUDIT_BAD_EXPORT: 400,
  AUDIT_KEY_INVALID: 500,
  UNKNOWN_PURPOSE: 404,
  UNKNOWN_SUBJECT: 404,
  PURPOSE_SUSPENDED: 409,
  CONSENT_REQUIRED: 422,
  CONSENT_WITHDRAWN: 422,
  SOURCE_REFERENCE_REQUIRED: 422,
  CASE_REF_REQUIRED: 422,
  SUBJECT_RESTRICTED: 409,
  SUBJECT_SUPPRESSED: 409,
  SUBJECT_ERASED: 410,
  MODEL_MISMATCH: 409,
  KEY_DESTROYED: 410,
  MASTER_KEY_INVALID: 500,
  CODE_INVALID: 400,
  CODE_EXPIRED: 400,
  REQUEST_LOCKED: 423,
  INVALID_STATE: 409,
  EXTENSION_REFUSED: 409,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  JOB_RUNNING: 409,
  JOB_ABANDONED: 409,
  SHUTTING_DOWN: 503,
  CONFLICT: 409,
  SCHEMA_OUTDATED: 503,
  DATABASE_UNAVAILABLE: 503,
  INTERNAL: 500,
};

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  423: 'Locked',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  instance?: string;
  requestId?: string;
  [extra: string]: unknown;
}

export function problem(code: ErrorCode, detail: string, extra: Record<string, unknown> = {}): Problem {
  const status = STATUS[code];
  return {
    type: `https://veil.dev/problems/${code.toLowerCase().replace(/_/g, '-')}`,
    title: TITLES[status] ?? 'Error',
    status,
    detail,
    code,
    ...extra,
  };
}

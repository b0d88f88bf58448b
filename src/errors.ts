/**
 * Transport-neutral domain errors. Every user-facing failure carries a stable code that the CLI prints
 * and the API maps to an HTTP status once. Messages never contain biometric data.
 */
export const ERROR_CODES = [
  // input
  'INVALID_IMAGE',
  'UNSUPPORTED_IMAGE_FORMAT',
  'IMAGE_TOO_LARGE',
  'NO_FACE',
  'MULTIPLE_FACES',
  'LOW_QUALITY',
  'LIVENESS_FAILED',
  'INVALID_INPUT',
  'NOT_FOUND',
  // engine
  'MODEL_MISSING',
  'MODEL_CORRUPT',
  'MODEL_UNCALIBRATED',
  'CALIBRATION_SET_TOO_SMALL',
  'ENGINE_OVERLOADED',
  'ENGINE_TIMEOUT',
  // audit
  'AUDIT_INVALID_PROOF',
  'AUDIT_BAD_SIGNATURE',
  'AUDIT_TAMPERED',
  'AUDIT_BAD_EXPORT',
  'AUDIT_KEY_INVALID',
  // gallery and privacy
  'UNKNOWN_PURPOSE',
  'UNKNOWN_SUBJECT',
  'PURPOSE_SUSPENDED',
  'CONSENT_REQUIRED',
  'CONSENT_WITHDRAWN',
  'SOURCE_REFERENCE_REQUIRED',
  'CASE_REF_REQUIRED',
  'SUBJECT_RESTRICTED',
  'SUBJECT_SUPPRESSED',
  'SUBJECT_ERASED',
  'MODEL_MISMATCH',
  'KEY_DESTROYED',
  'MASTER_KEY_INVALID',
  // rights requests
  'CODE_INVALID',
  'CODE_EXPIRED',
  'REQUEST_LOCKED',
  'INVALID_STATE',
  'EXTENSION_REFUSED',
  // access
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  // background jobs
  'JOB_RUNNING',
  'JOB_ABANDONED',
  'SHUTTING_DOWN',
  // store
  'CONFLICT',
  'SCHEMA_OUTDATED',
  'DATABASE_UNAVAILABLE',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

export class VeilError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(code: ErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = 'VeilError';
    this.code = code;
    this.details = details;
  }
}

export function isVeilError(e: unknown, code?: ErrorCode): e is VeilError {
  return e instanceof VeilError && (code === undefined || e.code === code);
}

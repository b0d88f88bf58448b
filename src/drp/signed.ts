import { createHash, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { VeilError } from '../errors.js';
import { supportedVersion } from './protocol.js';

/** A message an agent signed: its claims, and the hash that makes an identical message a replay. */
export interface SignedMessage {
  readonly claims: Readonly<Record<string, unknown>>;
  /** SHA-256 (hex) of the signed JSON bytes. */
  readonly hash: string;
}

const SIGNATURE_BYTES = 64;

/**
 * An agent's Ed25519 verify key as the directory gives it: base64 of the 32 raw bytes (hex, as
 * before DRP 0.9.1, is accepted too). Returns its canonical base64, or throws INVALID_INPUT.
 */
export function canonicalVerifyKey(v: string): string {
  const s = v.trim();
  const raw = /^[0-9a-fA-F]{64}$/.test(s) ? Buffer.from(s, 'hex') : Buffer.from(s, 'base64');
  if (raw.length !== 32 || !/^([0-9a-fA-F]{64}|[A-Za-z0-9+/_-]{43}=?)$/.test(s))
    throw new VeilError('INVALID_INPUT', 'A verify key is the base64 of a 32-byte Ed25519 public key.');
  return raw.toString('base64');
}

function publicKey(verifyKey: string): KeyObject {
  const x = Buffer.from(verifyKey, 'base64').toString('base64url');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' });
}

/**
 * The first two checks of §3.07, in order: the body decodes from base64 into bytes, and the 64
 * bytes in front are an Ed25519 signature of the rest under the agent's registered key. Only then
 * is the rest read as JSON.
 */
export function openSigned(body: unknown, verifyKey: string): SignedMessage {
  const text = typeof body === 'string' ? body.replace(/\s+/g, '') : '';
  if (!text || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(text))
    throw new VeilError('INVALID_INPUT', 'The body must be the base64 of a signed message, sent as text/plain.');
  const bytes = Buffer.from(text, 'base64');
  if (bytes.length <= SIGNATURE_BYTES)
    throw new VeilError('INVALID_INPUT', 'The body is too short to hold a signature and a message.');
  const signature = bytes.subarray(0, SIGNATURE_BYTES);
  const message = bytes.subarray(SIGNATURE_BYTES);
  if (!verify(null, message, publicKey(verifyKey), signature))
    throw new VeilError('FORBIDDEN', "The signature does not verify under the agent's registered key.");
  let claims: unknown;
  try {
    claims = JSON.parse(message.toString('utf8'));
  } catch {
    throw new VeilError('INVALID_INPUT', 'The signed message is not JSON.');
  }
  if (!claims || typeof claims !== 'object' || Array.isArray(claims))
    throw new VeilError('INVALID_INPUT', 'The signed message is not a JSON object.');
  return { claims: claims as Record<string, unknown>, hash: createHash('sha256').update(message).digest('hex') };
}

function instant(claims: Readonly<Record<string, unknown>>, key: string): number {
  const v = claims[key];
  const t = typeof v === 'string' ? Date.parse(v) : NaN;
  if (!Number.isFinite(t)) throw new VeilError('INVALID_INPUT', `${key} must be an ISO 8601 timestamp.`);
  return t;
}

/**
 * The rest of §3.07, in order: `agent-id` is the agent the token (or the URL) names, `business-id`
 * is this deployment's, and issued-at <= now < expires-at. An expired message is refused for good
 * (fatal); one issued in the future may be sent again once the clocks agree.
 */
export function checkClaims(
  claims: Readonly<Record<string, unknown>>,
  expect: { agentId: string; businessId: string; now: Date },
): void {
  if (claims['agent-id'] !== expect.agentId)
    throw new VeilError('FORBIDDEN', 'agent-id is not the agent this token (or URL) belongs to.');
  if (claims['business-id'] !== expect.businessId)
    throw new VeilError('FORBIDDEN', 'business-id names another business: this message was not meant for us.');
  const issued = instant(claims, 'issued-at');
  const expires = instant(claims, 'expires-at');
  const now = expect.now.getTime();
  if (now < issued) throw new VeilError('INVALID_INPUT', 'issued-at is in the future.', { fatal: false });
  if (now >= expires)
    throw new VeilError('INVALID_INPUT', 'The message expired (expires-at has passed): it is discarded.', {
      fatal: true,
    });
  if (!supportedVersion(claims['drp.version']))
    throw new VeilError('INVALID_INPUT', 'Unsupported drp.version: Veil speaks DRP 1.0 (and 0.9.4).', { fatal: true });
}

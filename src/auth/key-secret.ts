import { createHash, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';

const scryptAsync = promisify(scrypt) as (p: string, s: Buffer, n: number, o: object) => Promise<Buffer>;
const SCRYPT = { N: 16384, r: 8, p: 1 } as const;

/**
 * How an API key's secret is stored. The secret is 24 random bytes, so a plain SHA-256 of it
 * cannot be brute-forced and costs microseconds to check: a wrong secret no longer buys a
 * caller 50 ms of the server's CPU. Keys made before this (`scrypt$salt$hash`) still verify,
 * off the main thread, and are rewritten as `sha256$hex` on their first good use.
 */
export function hashKeySecret(secret: string): string {
  return `sha256$${createHash('sha256').update(secret).digest('hex')}`;
}

/** An old-format hash: checking it is slow, so it is upgraded on its first good use. */
export const isLegacyKeyHash = (stored: string): boolean => stored.startsWith('scrypt$');

/** Whether `secret` matches the stored hash, compared in constant time. */
export async function checkKeySecret(secret: string, stored: string): Promise<boolean> {
  const [alg, a, b] = stored.split('$');
  if (alg === 'sha256' && a) {
    const want = Buffer.from(a, 'hex');
    const got = createHash('sha256').update(secret).digest();
    return want.length === got.length && timingSafeEqual(want, got);
  }
  if (alg === 'scrypt' && a && b) {
    const want = Buffer.from(b, 'base64url');
    const got = await scryptAsync(secret, Buffer.from(a, 'base64url'), want.length, SCRYPT);
    return timingSafeEqual(want, got);
  }
  return false;
}

/** An old-format hash, as keys made before the switch hold (tests of the upgrade path use it). */
export async function legacyKeyHash(secret: string, salt: Buffer): Promise<string> {
  return `scrypt$${salt.toString('base64url')}$${(await scryptAsync(secret, salt, 32, SCRYPT)).toString('base64url')}`;
}

import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { VeilError } from '../errors.js';
import { keyIdOf } from './tree-head.js';

export interface AuditSigningKey {
  readonly keyId: string;
  readonly privateKey: KeyObject;
  readonly publicKeyPem: string;
}

const FILE = 'audit-signing-key.pem';

function fromPem(pem: string, origin: string): AuditSigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new VeilError('AUDIT_KEY_INVALID', `The audit signing key from ${origin} is not a PEM private key.`);
  }
  if (privateKey.asymmetricKeyType !== 'ed25519')
    throw new VeilError('AUDIT_KEY_INVALID', `The audit signing key from ${origin} must be Ed25519.`);
  const pub = createPublicKey(privateKey);
  return { keyId: keyIdOf(pub), privateKey, publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString() };
}

function writeSecret(path: string, content: string): void {
  writeFileSync(path, content, { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * The audit signing key: `VEIL_AUDIT_SIGNING_KEY` (a PEM, or a path to one) when set, else
 * <dataDir>/audit-signing-key.pem, generated on first use with mode 0600.
 */
export function loadOrCreateSigningKey(
  dataDir: string,
  provided: string | undefined,
): { key: AuditSigningKey; created: boolean } {
  if (provided) {
    const pem = provided.includes('-----BEGIN') ? provided : readFileSync(provided, 'utf8');
    return { key: fromPem(pem, 'VEIL_AUDIT_SIGNING_KEY'), created: false };
  }
  const path = join(dataDir, FILE);
  if (existsSync(path)) return { key: fromPem(readFileSync(path, 'utf8'), path), created: false };
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  writeSecret(path, pem);
  return { key: fromPem(pem, path), created: true };
}

/** Generates the next key; the caller cross-signs a head with both, then `retire()` destroys the old file. */
export function prepareRotation(dataDir: string): { next: AuditSigningKey; commit: () => void } {
  const path = join(dataDir, FILE);
  const { privateKey } = generateKeyPairSync('ed25519');
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const next = fromPem(pem, 'a new key');
  return {
    next,
    commit: () => {
      const tmp = `${path}.next`;
      writeSecret(tmp, pem);
      renameSync(tmp, path);
      rmSync(`${path}.old`, { force: true });
    },
  };
}

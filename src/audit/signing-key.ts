// The Ed25519 key that signs audit digests: generated once into the data directory (mode 0600, encrypted
// with PORTCULLIS_AUDIT_KEY_PASSPHRASE when set), with its public half beside it for `audit verify` and export.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const AUDIT_PRIVATE_KEY_FILE = 'audit-signing-key.pem';
export const AUDIT_PUBLIC_KEY_FILE = 'audit-signing-key.pub.pem';

export interface AuditSigningKey {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly publicKeyPem: string;
  /** Hex SHA-256 of the DER SubjectPublicKeyInfo, as CloudTrail names its keys. */
  readonly fingerprint: string;
}

export function publicKeyFingerprint(key: KeyObject): string {
  return createHash('sha256').update(key.export({ type: 'spki', format: 'der' })).digest('hex');
}

export function loadOrCreateAuditKey(dataDir: string, passphrase?: string): AuditSigningKey {
  const privatePath = join(dataDir, AUDIT_PRIVATE_KEY_FILE);
  const publicPath = join(dataDir, AUDIT_PUBLIC_KEY_FILE);
  let privateKey: KeyObject;
  if (existsSync(privatePath)) {
    privateKey = createPrivateKey({ key: readFileSync(privatePath), format: 'pem', ...(passphrase ? { passphrase } : {}) });
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`${privatePath} is not an Ed25519 private key`);
  } else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    privateKey = generateKeyPairSync('ed25519').privateKey;
    const pem = privateKey.export(
      passphrase ? { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase } : { type: 'pkcs8', format: 'pem' },
    );
    // wx: never overwrite a key another process created meanwhile (the digests it signed would stop verifying).
    writeFileSync(privatePath, pem, { mode: 0o600, flag: 'wx' });
    chmodSync(privatePath, 0o600);
  }
  const publicKey = createPublicKey(privateKey);
  const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  if (!existsSync(publicPath)) writeFileSync(publicPath, publicKeyPem, { mode: 0o644 });
  return { privateKey, publicKey, publicKeyPem, fingerprint: publicKeyFingerprint(publicKey) };
}

/** Reads public keys (PEM) for verification, keyed by fingerprint. */
export function readPublicKeys(pems: readonly string[]): Map<string, KeyObject> {
  const keys = new Map<string, KeyObject>();
  for (const pem of pems) {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('an audit public key must be Ed25519');
    keys.set(publicKeyFingerprint(key), key);
  }
  return keys;
}

// Encryption at rest of access-key secrets: AES-256-GCM under a master key from PORTCULLIS_MASTER_KEY (base64,
// 32 bytes) or a key file created 0600 in the data dir; previous keys decrypt only (master-key rotation).
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

export interface SecretBox {
  /** `v1.<key id>.<iv>.<ciphertext>.<tag>` (base64url), bound to `context` (the access key id) as AAD. */
  seal(plain: string, context: string): string;
  /** Throws when no known master key matches or the text was tampered with. */
  open(sealed: string, context: string): string;
  /** Whether this text was sealed under an older master key (rotation: re-seal it). */
  isStale(sealed: string): boolean;
  /** Short public id of the current master key (first 8 hex of its SHA-256), for operators. */
  readonly keyId: string;
}

function decodeKey(b64: string, what: string): Buffer {
  const key = Buffer.from(b64.trim(), 'base64');
  if (key.length !== 32) throw new Error(`${what} must be 32 bytes in base64 (for example: openssl rand -base64 32), got ${key.length} bytes`);
  return key;
}

const idOf = (key: Buffer): string => createHash('sha256').update(key).digest('hex').slice(0, 8);

export function createSecretBox(current: Buffer, previous: readonly Buffer[] = []): SecretBox {
  const keys = new Map<string, Buffer>();
  for (const k of [current, ...previous]) keys.set(idOf(k), k);
  const currentId = idOf(current);
  const box: SecretBox = {
    keyId: currentId,
    seal(plain, context) {
      const iv = randomBytes(12);
      const c = createCipheriv('aes-256-gcm', current, iv);
      c.setAAD(Buffer.from(context, 'utf8'));
      const ct = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
      return ['v1', currentId, iv.toString('base64url'), ct.toString('base64url'), c.getAuthTag().toString('base64url')].join('.');
    },
    open(sealed, context) {
      const [v, id, iv, ct, tag] = sealed.split('.');
      if (v !== 'v1' || id === undefined || iv === undefined || ct === undefined || tag === undefined) throw new Error('not a sealed secret');
      const key = keys.get(id);
      if (key === undefined) throw new Error(`sealed under master key ${id}, which this node does not have (set PORTCULLIS_MASTER_KEY_PREVIOUS?)`);
      const d = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      d.setAAD(Buffer.from(context, 'utf8'));
      d.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8');
    },
    isStale: (sealed) => sealed.split('.')[1] !== currentId,
  };
  return Object.freeze(box);
}

/**
 * The node's master key: PORTCULLIS_MASTER_KEY when set (every node of a cluster must share it), else
 * <dataDir>/master.key, generated on first start with mode 0600. PORTCULLIS_MASTER_KEY_PREVIOUS (comma-separated)
 * lists retired keys that still decrypt.
 */
export async function loadSecretBox(
  env: Readonly<Record<string, string | undefined>>,
  dataDir: string | undefined,
  { shared = false }: { shared?: boolean } = {},
): Promise<SecretBox> {
  const previous = (env.PORTCULLIS_MASTER_KEY_PREVIOUS ?? '').split(',').filter((s) => s.trim() !== '').map((s) => decodeKey(s, 'PORTCULLIS_MASTER_KEY_PREVIOUS'));
  if (env.PORTCULLIS_MASTER_KEY) return createSecretBox(decodeKey(env.PORTCULLIS_MASTER_KEY, 'PORTCULLIS_MASTER_KEY'), previous);
  if (shared) {
    // A key generated per node would seal secrets the other nodes cannot open: refuse instead of failing later.
    throw new Error(
      'a shared store (PostgreSQL) needs one master key on every node: set PORTCULLIS_MASTER_KEY to the same ' +
        'base64 of 32 random bytes everywhere (for example the output of `openssl rand -base64 32`)',
    );
  }
  if (dataDir === undefined) throw new Error('no master key: set PORTCULLIS_MASTER_KEY or give the node a data dir');
  const file = join(dataDir, MASTER_KEY_FILE);
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  try {
    await writeFile(file, randomBytes(32).toString('base64') + '\n', { flag: 'wx', mode: 0o600 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return createSecretBox(decodeKey(await readFile(file, 'utf8'), file), previous);
}

// API key values: generated `pck_` + 32 base62 + 6-character base62 CRC32 checksum (GitHub-token style, so a
// mistyped key is refused without a lookup and secret scanners recognise leaks), imported AWS-style values,
// and the keyed hash (HMAC-SHA-256 with the server secret) that is all the store ever keeps.
import { createHmac, randomBytes } from 'node:crypto';
import { randomBase62 } from '../control/token-values.ts';

export const KEY_PREFIX = 'pck_';
export const KEY_RANDOM_LENGTH = 32;
export const KEY_CHECKSUM_LENGTH = 6;
/** pck_ + 32 + 6 = 42 characters: about 190 random bits. */
export const GENERATED_KEY_LENGTH = KEY_PREFIX.length + KEY_RANDOM_LENGTH + KEY_CHECKSUM_LENGTH;
/** AWS accepts 20-128 alphanumeric characters for an imported value (reference section 3). */
export const IMPORTED_KEY = /^[A-Za-z0-9]{20,128}$/;
/**
 * Characters of the secret part kept as a public hint to recognise a key in listings: 4 base62 characters are
 * about 24 bits, of a generated value's 190 and an imported value's 119 or more.
 */
export const KEY_HINT_CHARS = 4;
/** Hex characters of the keyed hash shown as $context.identity.apiKey (never the value). */
export const KEY_HASH_PREFIX_LENGTH = 12;
export const KEY_HASH_SECRET_META = 'api-keys.hash-secret';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const GENERATED = /^pck_[0-9A-Za-z]{38}$/;

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(text: string): number {
  let c = 0xffffffff;
  for (let i = 0; i < text.length; i++) c = CRC_TABLE[(c ^ text.charCodeAt(i)) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** CRC32 as 6 base62 digits, zero-padded (62^6 > 2^32). */
export function checksum62(body: string): string {
  let n = crc32(body);
  let out = '';
  for (let i = 0; i < KEY_CHECKSUM_LENGTH; i++) {
    out = BASE62[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

export function generateKeyValue(): string {
  const body = randomBase62(KEY_RANDOM_LENGTH);
  return KEY_PREFIX + body + checksum62(body);
}

export type KeyShape = 'generated' | 'imported' | 'invalid';

/**
 * What a presented value can be, without any lookup: a `pck_` value must carry a correct checksum; anything
 * else must be an AWS-style alphanumeric value. Used on the request path, so no allocation beyond the slice.
 */
export function keyShape(value: string): KeyShape {
  if (value.startsWith(KEY_PREFIX)) {
    if (!GENERATED.test(value)) return 'invalid';
    const body = value.slice(KEY_PREFIX.length, KEY_PREFIX.length + KEY_RANDOM_LENGTH);
    return checksum62(body) === value.slice(KEY_PREFIX.length + KEY_RANDOM_LENGTH) ? 'generated' : 'invalid';
  }
  return IMPORTED_KEY.test(value) ? 'imported' : 'invalid';
}

/** Why a value cannot be imported, or undefined when it can. */
export function importProblem(value: string): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return 'the key value is empty';
  if (value.startsWith(KEY_PREFIX)) return keyShape(value) === 'generated' ? undefined : `a ${KEY_PREFIX} value must be one this gateway generated (its checksum does not match)`;
  if (value.length < 20 || value.length > 128) return `a key value is 20 to 128 characters, this one has ${value.length}`;
  if (!IMPORTED_KEY.test(value)) return 'a key value may contain only letters and digits';
  return undefined;
}

export interface KeyHasher {
  hash(value: string): string;
}

export function createKeyHasher(secret: string): KeyHasher {
  if (secret.length < 32) throw new Error('the API key hash secret must be at least 32 characters');
  return Object.freeze({ hash: (value: string) => createHmac('sha256', secret).update(value, 'utf8').digest('hex') });
}

export function newHashSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The hint listings show: `pck_` and 4 characters of a generated value, the first 4 of an imported one. */
export function keyHint(value: string): string {
  return value.slice(0, (value.startsWith(KEY_PREFIX) ? KEY_PREFIX.length : 0) + KEY_HINT_CHARS);
}

export function generateKeyId(): string {
  // AWS key ids are about 10 lowercase alphanumerics; ours are prefixed so they never look like a value.
  return 'k' + randomBase62(11).toLowerCase();
}

/** The secret from PORTCULLIS_KEY_HASH_SECRET, else one generated once and kept in the meta store. */
export async function loadKeyHashSecret(env: NodeJS.ProcessEnv, meta: { setIfAbsent(key: string, value: string): Promise<string> }): Promise<string> {
  const fromEnv = env.PORTCULLIS_KEY_HASH_SECRET;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (fromEnv.length < 32) throw new Error('PORTCULLIS_KEY_HASH_SECRET must be at least 32 characters');
    return fromEnv;
  }
  return meta.setIfAbsent(KEY_HASH_SECRET_META, newHashSecret());
}

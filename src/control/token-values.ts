// Admin token values, ids and digests: `pcat_` + 40 base62 characters (about 238 bits), stored only as a
// SHA-256 digest; the prefix makes a leaked token easy to recognise for secret scanners and people.
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'pcat_';
export const TOKEN_RANDOM_LENGTH = 40;
/** How many leading characters of a value are kept as its hint: the prefix and 4 random characters. */
export const TOKEN_HINT_LENGTH = 9;
/** A token set through PORTCULLIS_ADMIN_TOKEN must be at least this long (about 190 bits as base64). */
export const MIN_ENV_TOKEN_LENGTH = 32;
/** Anything longer is not a token we issued or accept; refusing it early bounds the hashing work. */
export const MAX_TOKEN_LENGTH = 512;

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
// 248 = 4 × 62: bytes below it map onto the alphabet evenly; bytes 248..255 are drawn again (rejection
// sampling), because `byte % 62` alone would make the first 8 characters slightly more likely.
const UNBIASED_LIMIT = 256 - (256 % BASE62.length);

/** `length` uniformly random base62 characters from the operating system's CSPRNG. */
export function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    // Ask for a few more bytes than needed, since about 3% are rejected.
    for (const byte of randomBytes(length - out.length + 8)) {
      if (byte >= UNBIASED_LIMIT) continue;
      out += BASE62[byte % BASE62.length];
      if (out.length === length) break;
    }
  }
  return out;
}

export function generateTokenValue(): string {
  return TOKEN_PREFIX + randomBase62(TOKEN_RANDOM_LENGTH);
}

/** Token ids are public (listings, `tokens revoke ID`); they only need to be unique. */
export function generateTokenId(): string {
  return 'tok_' + randomBase62(16);
}

export function hashTokenValue(value: string): string {
  return createHash('sha256').update(value, 'utf8').digest('hex');
}

export function tokenHint(value: string): string {
  return value.slice(0, TOKEN_HINT_LENGTH);
}

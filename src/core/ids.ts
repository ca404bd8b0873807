// Request identifiers: $context.requestId (a UUID, as AWS) and $context.extendedRequestId (AWS's short
// base64 form). The extended id is unique, not secret, so a counter under a random prefix suffices.
import { randomBytes, randomFillSync } from 'node:crypto';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return value.length === 36 && UUID_RE.test(value);
}

const HEX_HI = Uint8Array.from({ length: 256 }, (_, i) => '0123456789abcdef'.charCodeAt(i >> 4));
const HEX_LO = Uint8Array.from({ length: 256 }, (_, i) => '0123456789abcdef'.charCodeAt(i & 15));
const POOL_BYTES = 4096;
const pool = Buffer.allocUnsafeSlow(POOL_BYTES);
let poolOffset = POOL_BYTES;

/**
 * A random (version 4, RFC 9562) UUID, lower-case. Random bytes come from a pool refilled from the CSPRNG
 * 256 ids at a time, and the text is built as one flat string: crypto.randomUUID() concatenates 20 pieces,
 * which costs several times more per request (and allocation the log phase then flattens).
 */
export function newRequestId(): string {
  if (poolOffset === POOL_BYTES) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const b = pool;
  const o = poolOffset;
  poolOffset += 16;
  const version = (b[o + 6] & 0x0f) | 0x40;
  const variant = (b[o + 8] & 0x3f) | 0x80;
  return String.fromCharCode(
    HEX_HI[b[o]], HEX_LO[b[o]], HEX_HI[b[o + 1]], HEX_LO[b[o + 1]],
    HEX_HI[b[o + 2]], HEX_LO[b[o + 2]], HEX_HI[b[o + 3]], HEX_LO[b[o + 3]], 45,
    HEX_HI[b[o + 4]], HEX_LO[b[o + 4]], HEX_HI[b[o + 5]], HEX_LO[b[o + 5]], 45,
    HEX_HI[version], HEX_LO[version], HEX_HI[b[o + 7]], HEX_LO[b[o + 7]], 45,
    HEX_HI[variant], HEX_LO[variant], HEX_HI[b[o + 9]], HEX_LO[b[o + 9]], 45,
    HEX_HI[b[o + 10]], HEX_LO[b[o + 10]], HEX_HI[b[o + 11]], HEX_LO[b[o + 11]],
    HEX_HI[b[o + 12]], HEX_LO[b[o + 12]], HEX_HI[b[o + 13]], HEX_LO[b[o + 13]],
    HEX_HI[b[o + 14]], HEX_LO[b[o + 14]], HEX_HI[b[o + 15]], HEX_LO[b[o + 15]],
  );
}

const BASE64 = Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));
const EQUALS = 61;

/**
 * The extended id for `counter` (0 to 2^48 - 1) under a 5-byte prefix: the base64 of the 11 bytes
 * prefix + counter (48 bits, big-endian), built as one flat string without a Buffer per request.
 */
export function extendedId(prefix: Uint8Array, counter: number): string {
  const hi = Math.floor(counter / 0x100_0000); // counter bits 24..47
  const lo = counter - hi * 0x100_0000; // counter bits 0..23
  const w0 = (prefix[0] << 16) | (prefix[1] << 8) | prefix[2];
  const w1 = (prefix[3] << 16) | (prefix[4] << 8) | (hi >>> 16);
  const w2 = ((hi & 0xffff) << 8) | (lo >>> 16);
  const w3 = (lo & 0xffff) << 8;
  return String.fromCharCode(
    BASE64[w0 >>> 18], BASE64[(w0 >>> 12) & 63], BASE64[(w0 >>> 6) & 63], BASE64[w0 & 63],
    BASE64[w1 >>> 18], BASE64[(w1 >>> 12) & 63], BASE64[(w1 >>> 6) & 63], BASE64[w1 & 63],
    BASE64[w2 >>> 18], BASE64[(w2 >>> 12) & 63], BASE64[(w2 >>> 6) & 63], BASE64[w2 & 63],
    BASE64[w3 >>> 18], BASE64[(w3 >>> 12) & 63], BASE64[(w3 >>> 6) & 63], EQUALS,
  );
}

export function createExtendedIdGenerator(prefix: Uint8Array = randomBytes(5)): () => string {
  let counter = 0;
  return () => {
    counter = (counter + 1) % 0x1_0000_0000_0000;
    return extendedId(prefix, counter);
  };
}

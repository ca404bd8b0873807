// Signature Version 4 canonical forms for execute-api (a non-S3 service): URI (normalised, every segment
// encoded once more on top of the wire encoding), sorted query, folded headers, string to sign, signing key.
import { createHmac, hash } from 'node:crypto';

export const ALGORITHM = 'AWS4-HMAC-SHA256';
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

/** RFC 3986 encoding as AWS does it: everything but A-Z a-z 0-9 - . _ ~, upper-case hex. */
export function uriEncode(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The canonical URI from the RAW request path: empty and "." segments dropped, ".." pops, then each segment
 * encoded again (so "%20" on the wire becomes "%2520", as @smithy/signature-v4 and aws4 compute it).
 */
/**
 * A path that encoding and normalisation leave as it is (the common case): unreserved characters only, and no
 * segment that is empty or starts with a dot (so no "." or ".." segment).
 */
const PLAIN_PATH = /^(?:\/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+\/?$/;

export function canonicalUri(rawPath: string): string {
  if (rawPath === '' || rawPath === '/') return '/';
  if (PLAIN_PATH.test(rawPath)) return rawPath;
  const out: string[] = [];
  for (const seg of rawPath.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') out.pop();
    else out.push(uriEncode(seg));
  }
  const trailing = out.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return '/' + out.join('/') + trailing;
}

function decodeQueryPart(s: string): string {
  // Form decoding: "+" is a space (aws4 and API Gateway read query strings that way).
  const plus = s.includes('+') ? s.replace(/\+/g, ' ') : s;
  try {
    return decodeURIComponent(plus);
  } catch {
    return plus;
  }
}

/** Parsed raw query pairs, decoded, in order. */
export function parseQuery(rawQuery: string): Array<[string, string]> {
  if (rawQuery === '') return [];
  const out: Array<[string, string]> = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    out.push(eq === -1 ? [decodeQueryPart(part), ''] : [decodeQueryPart(part.slice(0, eq)), decodeQueryPart(part.slice(eq + 1))]);
  }
  return out;
}

/** Names and values encoded separately, sorted by name then value (byte order); `skip` drops X-Amz-Signature for presigned URLs. */
export function canonicalQuery(pairs: ReadonlyArray<readonly [string, string]>, skip?: string): string {
  const enc: string[][] = [];
  for (const [k, v] of pairs) if (k !== skip) enc.push([uriEncode(k), uriEncode(v)]);
  enc.sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : a[1]! < b[1]! ? -1 : a[1]! > b[1]! ? 1 : 0));
  return enc.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values from rawHeaders by lower-cased name: each trimmed with inner whitespace runs folded, repeats joined with ",". */
export function headerValues(rawHeaders: readonly string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const raw = rawHeaders[i + 1]!;
    // Folding is rarely needed: skip the regex unless the value has a tab or a run of spaces.
    const v = (raw.includes('  ') || raw.includes('\t') ? raw.replace(/[ \t]+/g, ' ') : raw).trim();
    const prev = m.get(name);
    m.set(name, prev === undefined ? v : `${prev},${v}`);
  }
  return m;
}

export function canonicalRequest(parts: {
  method: string; uri: string; query: string; headers: ReadonlyMap<string, string>; signedHeaders: readonly string[]; payloadHash: string;
}): string {
  let h = '';
  for (const name of parts.signedHeaders) h += `${name}:${parts.headers.get(name) ?? ''}\n`;
  return `${parts.method}\n${parts.uri}\n${parts.query}\n${h}\n${parts.signedHeaders.join(';')}\n${parts.payloadHash}`;
}

/** One-shot crypto.hash (Node 20.12+): no Hash object, about half the cost of createHash for short inputs. */
export function sha256Hex(data: string | Uint8Array): string {
  return hash('sha256', typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength), 'hex');
}

export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `${ALGORITHM}\n${amzDate}\n${scope}\n${sha256Hex(canonical)}`;
}

export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  const kDate = createHmac('sha256', 'AWS4' + secret).update(date).digest();
  const kRegion = createHmac('sha256', kDate).update(region).digest();
  const kService = createHmac('sha256', kRegion).update(service).digest();
  return createHmac('sha256', kService).update('aws4_request').digest();
}

// Verifies AWS Signature Version 4 for execute-api exactly as API Gateway does (reference sections 5.1-5.2):
// header and presigned forms, the credential scope, the clock skew, and the signature itself, with AWS's
// messages. Pure apart from crypto: the caller supplies the time, the key's secret and the body's SHA-256.
import { createHmac, timingSafeEqual } from 'node:crypto';
import {
  ALGORITHM, canonicalQuery, canonicalRequest, canonicalUri, headerValues, parseQuery, signingKey, stringToSign,
} from './canonical.ts';

export interface SigV4Request {
  readonly method: string;
  /** The path exactly as received (percent-encoded), without the query. */
  readonly rawPath: string;
  /** The query as received, without "?". */
  readonly rawQuery: string;
  /** Node's rawHeaders: [name, value, name, value...] as received. */
  readonly rawHeaders: readonly string[];
}

export type SigV4FailureKind =
  /** No signature at all: 403 Missing Authentication Token. */
  | 'MISSING'
  /** A malformed Authorization header or presigned query: 403 IncompleteSignatureException. */
  | 'INCOMPLETE'
  /** Scope, time or signature mismatch: 403 InvalidSignatureException. */
  | 'INVALID_SIGNATURE'
  /** Unknown access key or a session token that does not belong to it. */
  | 'INVALID_TOKEN'
  /** Temporary credentials past their expiry. */
  | 'EXPIRED_TOKEN';

export interface SigV4Failure {
  readonly ok: false;
  readonly kind: SigV4FailureKind;
  /** The client-visible message, AWS's text. */
  readonly message: string;
}

export interface ParsedSigV4 {
  readonly ok: true;
  readonly form: 'header' | 'query';
  readonly accessKeyId: string;
  /** YYYYMMDD from the credential scope. */
  readonly scopeDate: string;
  readonly region: string;
  readonly service: string;
  /** The fifth credential element; must be aws4_request. */
  readonly terminator: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
  /** YYYYMMDD'T'HHMMSS'Z' */
  readonly amzDate: string;
  readonly securityToken: string | undefined;
  /** Presigned form: X-Amz-Expires as given. */
  readonly expires: string | undefined;
  readonly headers: ReadonlyMap<string, string>;
  readonly query: ReadonlyArray<readonly [string, string]>;
  readonly method: string;
  readonly rawPath: string;
}

export const MAX_SKEW_MS = 5 * 60 * 1000;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;
const HEX64 = /^[0-9a-f]{64}$/;

const fail = (kind: SigV4FailureKind, message: string): SigV4Failure => ({ ok: false, kind, message });
export const INVALID_TOKEN_MESSAGE = 'The security token included in the request is invalid.';
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';
export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

export function formatAmzDate(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}

function amzDateMs(s: string): number | undefined {
  const m = AMZ_DATE.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  return Number.isNaN(ms) ? undefined : ms;
}

/** Parses "Credential=..., SignedHeaders=..., Signature=..." after the algorithm name. */
function parseAuthorization(value: string, headers: ReadonlyMap<string, string>): ParsedParams | SigV4Failure {
  const space = value.indexOf(' ');
  const algorithm = space === -1 ? value : value.slice(0, space);
  const rest = space === -1 ? '' : value.slice(space + 1).trim();
  if (algorithm !== ALGORITHM) {
    // AWS reads any other scheme as key=value pairs and reports the first token that is not one.
    const token = rest.split(/[ ,]+/).find((t) => t !== '' && !t.includes('='));
    if (token !== undefined) return fail('INCOMPLETE', `'${token}' not a valid key=value pair (missing equal-sign) in Authorization header: '${value}'.`);
  }
  const params = new Map<string, string>();
  for (const part of (algorithm === ALGORITHM ? rest : value).split(',')) {
    const p = part.trim();
    if (p === '') continue;
    const eq = p.indexOf('=');
    if (eq === -1) return fail('INCOMPLETE', `'${p}' not a valid key=value pair (missing equal-sign) in Authorization header: '${value}'.`);
    params.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim());
  }
  const missing: string[] = [];
  if (algorithm !== ALGORITHM || !params.has('Credential')) missing.push("Authorization header requires 'Credential' parameter.");
  if (algorithm !== ALGORITHM || !params.has('Signature')) missing.push("Authorization header requires 'Signature' parameter.");
  if (algorithm !== ALGORITHM || !params.has('SignedHeaders')) missing.push("Authorization header requires 'SignedHeaders' parameter.");
  const amzDate = headers.get('x-amz-date') ?? dateHeader(headers.get('date'));
  if (amzDate === undefined) missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  if (missing.length) return fail('INCOMPLETE', `${missing.join(' ')} Authorization=${value}`);
  return {
    credential: params.get('Credential')!, signedHeaders: params.get('SignedHeaders')!, signature: params.get('Signature')!,
    amzDate: amzDate!, securityToken: headers.get('x-amz-security-token'),
  };
}

/** An RFC 7231 Date header as an X-Amz-Date value. */
function dateHeader(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  const ms = Date.parse(v);
  return Number.isNaN(ms) ? v : formatAmzDate(ms);
}

interface ParsedParams {
  credential: string; signedHeaders: string; signature: string; amzDate: string; securityToken: string | undefined; expires?: string;
}

/**
 * Reads the signature from the Authorization header or the presigned query. Returns a MISSING failure when the
 * request carries neither, so the caller can answer "Missing Authentication Token".
 */
export function parseSigV4(req: SigV4Request): ParsedSigV4 | SigV4Failure {
  const headers = headerValues(req.rawHeaders);
  const query = parseQuery(req.rawQuery);
  const auth = headers.get('authorization');
  const q = (name: string) => query.find(([k]) => k === name)?.[1];
  const presigned = q('X-Amz-Algorithm') !== undefined || q('X-Amz-Credential') !== undefined || q('X-Amz-Signature') !== undefined;
  let p: ParsedParams | SigV4Failure;
  let form: 'header' | 'query';
  if (auth !== undefined && auth !== '') {
    if (presigned) return fail('INCOMPLETE', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified');
    form = 'header';
    p = parseAuthorization(auth, headers);
  } else if (presigned) {
    form = 'query';
    const missing = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date'].filter((n) => q(n) === undefined);
    if (missing.length) return fail('INCOMPLETE', missing.map((n) => `AWS query-string parameters must include '${n}'.`).join(' ') + ' Re-examine the query-string parameters.');
    if (q('X-Amz-Algorithm') !== ALGORITHM) return fail('INCOMPLETE', `Unsupported AWS 'algorithm': '${q('X-Amz-Algorithm')}'`);
    p = {
      credential: q('X-Amz-Credential')!, signedHeaders: q('X-Amz-SignedHeaders')!, signature: q('X-Amz-Signature')!, amzDate: q('X-Amz-Date')!,
      securityToken: q('X-Amz-Security-Token') ?? headers.get('x-amz-security-token'), expires: q('X-Amz-Expires'),
    };
  } else {
    return fail('MISSING', 'Missing Authentication Token');
  }
  if ('kind' in p) return p;
  const params = p;
  const cred = params.credential.split('/');
  if (cred.length !== 5) {
    return fail('INCOMPLETE', `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${params.credential}'`);
  }
  if (amzDateMs(params.amzDate) === undefined) {
    return fail('INCOMPLETE', `Date must be in ISO-8601 'basic format'. Got '${params.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`);
  }
  const signedHeaders = params.signedHeaders.split(';');
  return {
    ok: true, form, accessKeyId: cred[0]!, scopeDate: cred[1]!, region: cred[2]!, service: cred[3]!,
    terminator: cred[4]!, signedHeaders, signature: params.signature, amzDate: params.amzDate, securityToken: params.securityToken,
    expires: params.expires, headers, query, method: req.method, rawPath: req.rawPath,
  };
}

/**
 * The checks that need no secret: credential scope (terminator, service, region, date), time skew (or the
 * presigned URL's X-Amz-Expires), host and every x-amz-* header signed. In AWS's order and words.
 */
export function checkScopeAndTime(p: ParsedSigV4, expected: { region: string; service: string; nowMs: number }): SigV4Failure | undefined {
  if (p.terminator !== 'aws4_request') return fail('INVALID_SIGNATURE', `Credential should be scoped with a valid terminator: 'aws4_request', not '${p.terminator}'. `);
  if (p.service !== expected.service) return fail('INVALID_SIGNATURE', `Credential should be scoped to correct service: '${expected.service}'. `);
  if (p.region !== expected.region) return fail('INVALID_SIGNATURE', `Credential should be scoped to a valid Region, not '${p.region}'. `);
  if (p.scopeDate !== p.amzDate.slice(0, 8)) {
    return fail('INVALID_SIGNATURE', `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${p.scopeDate}' != '${p.amzDate.slice(0, 8)}', from '${p.amzDate}'.`);
  }
  const t = amzDateMs(p.amzDate)!;
  const now = expected.nowMs;
  const expires = p.expires;
  if (expires !== undefined) {
    const seconds = Number(expires);
    if (!/^\d+$/.test(expires) || seconds < 1 || seconds > 604_800) {
      return fail('INCOMPLETE', `X-Amz-Expires must be between 1 and 604800 seconds, got '${expires}'`);
    }
    if (now > t + seconds * 1000) {
      return fail('INVALID_SIGNATURE', `Signature expired: ${p.amzDate} is now earlier than ${formatAmzDate(now - seconds * 1000)} (${formatAmzDate(now)} - ${seconds} sec.)`);
    }
  } else if (t < now - MAX_SKEW_MS) {
    return fail('INVALID_SIGNATURE', `Signature expired: ${p.amzDate} is now earlier than ${formatAmzDate(now - MAX_SKEW_MS)} (${formatAmzDate(now)} - 5 min.)`);
  }
  if (t > now + MAX_SKEW_MS) {
    return fail('INVALID_SIGNATURE', `Signature not yet current: ${p.amzDate} is still later than ${formatAmzDate(now + MAX_SKEW_MS)} (${formatAmzDate(now)} + 5 min.)`);
  }
  const signed = new Set(p.signedHeaders);
  if (!signed.has('host')) return fail('INCOMPLETE', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  for (const name of p.headers.keys()) {
    // x-amz-security-token may travel unsigned (observed API Gateway behaviour, reference 5.1).
    if (name.startsWith('x-amz-') && name !== 'x-amz-security-token' && !signed.has(name)) {
      return fail('INVALID_SIGNATURE', `There were headers present in the request which were not signed: ${name}`);
    }
  }
  return undefined;
}

/** Signing keys per access key, date, region and service (a day's key is derived once, not per request). */
export interface SigningKeyCache {
  get(accessKeyId: string, secret: string, date: string, region: string, service: string): Buffer;
}

export function createSigningKeyCache(maxEntries = 10_000): SigningKeyCache {
  const cache = new Map<string, { secret: string; key: Buffer }>();
  return {
    get(accessKeyId, secret, date, region, service) {
      const id = `${accessKeyId}/${date}/${region}/${service}`;
      const hit = cache.get(id);
      // The secret is part of the check: a key id re-issued with another secret never reuses a stale key.
      if (hit !== undefined && hit.secret === secret) return hit.key;
      if (cache.size >= maxEntries) cache.clear();
      const key = signingKey(secret, date, region, service);
      cache.set(id, { secret, key });
      return key;
    },
  };
}

/**
 * Recomputes the signature over the request and compares in constant time. On a mismatch the message carries
 * the canonical request and string to sign, as AWS shows them.
 */
export function verifySignature(p: ParsedSigV4, secret: string, payloadHash: string, cache?: SigningKeyCache): SigV4Failure | undefined {
  const canonical = canonicalRequest({
    method: p.method,
    uri: canonicalUri(p.rawPath),
    query: canonicalQuery(p.query, p.form === 'query' ? 'X-Amz-Signature' : undefined),
    headers: p.headers,
    signedHeaders: p.signedHeaders,
    payloadHash,
  });
  const scope = `${p.scopeDate}/${p.region}/${p.service}/aws4_request`;
  const sts = stringToSign(p.amzDate, scope, canonical);
  const key = cache ? cache.get(p.accessKeyId, secret, p.scopeDate, p.region, p.service) : signingKey(secret, p.scopeDate, p.region, p.service);
  const expected = createHmac('sha256', key).update(sts).digest();
  const given = HEX64.test(p.signature) ? Buffer.from(p.signature, 'hex') : undefined;
  if (given !== undefined && timingSafeEqual(expected, given)) return undefined;
  return fail('INVALID_SIGNATURE', `${SIGNATURE_MISMATCH_MESSAGE}\n\nThe Canonical String for this request should have been\n'${canonical}'\n\nThe String-to-Sign should have been\n'${sts}'\n`);
}

// JWT verification for the jwt (HTTP-API) and cognito (user pool) authorizer flavours on jose: AWS's
// checks, keys from a JwksCache chosen by kid only (jku/x5u/jwk headers are never followed), crit refused,
// and a cache of verified tokens keyed by SHA-256 of the token that never outlives the token's exp.
import { hash } from 'node:crypto';
import { decodeProtectedHeader, errors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../../core/clock.ts';
import type { JwksCache } from './jwks-cache.ts';

/** What the RFC 6750 error says, and which gateway response follows. */
export type JwtFailure =
  | { readonly kind: 'invalid'; readonly description: string }
  | { readonly kind: 'unavailable'; readonly transient: boolean; readonly detail: string };

export type JwtResult = { readonly ok: true; readonly claims: Readonly<JWTPayload> } | { readonly ok: false; readonly failure: JwtFailure };

export interface KeySource {
  /** The issuer whose keys verify tokens claiming it (cognito: one per pool). */
  readonly issuer: string;
  readonly jwks: JwksCache;
}

export interface JwtVerifierOptions {
  readonly flavour: 'jwt' | 'cognito';
  readonly sources: readonly KeySource[];
  /** jwt: accepted aud (or client_id); cognito: accepted app client ids, undefined = any. */
  readonly audiences: readonly string[] | undefined;
  /** cognito: AWS's identityValidationExpression, matched against the token's aud (so access tokens never pass). */
  readonly audienceRegex?: RegExp;
  readonly algorithms: readonly string[];
  readonly hmacSecret?: Uint8Array;
  readonly clockLeewaySeconds: number;
  readonly tokenCacheSize: number;
  readonly clock: Clock;
}

export interface JwtVerifier {
  verify(token: string): Promise<JwtResult>;
  /** The claims of a still-valid cached token, synchronously (the hot path needs no promise). */
  cached(token: string): Readonly<JWTPayload> | undefined;
  /** Cache hits so far (tests and bench). */
  readonly stats: { hits: number; verifications: number };
}

const invalid = (description: string): JwtResult => ({ ok: false, failure: { kind: 'invalid', description } });

export function createJwtVerifier(o: JwtVerifierOptions): JwtVerifier {
  const byIssuer = new Map(o.sources.map((s) => [s.issuer, s]));
  const hmac = new Set(o.algorithms.filter((a) => a.startsWith('HS')));
  const cache = o.tokenCacheSize > 0 ? new Map<string, { claims: Readonly<JWTPayload>; expiresAt: number }>() : undefined;
  const stats = { hits: 0, verifications: 0 };
  const leeway = o.clockLeewaySeconds;

  async function verifyUncached(token: string): Promise<JwtResult> {
    let header;
    try {
      header = decodeProtectedHeader(token);
    } catch {
      return invalid('the token is malformed');
    }
    // RFC 7515 4.1.11: a recipient must refuse extensions it does not understand; this gateway understands none.
    if (header.crit !== undefined) return invalid('the token uses unsupported critical header parameters');
    const alg = header.alg;
    if (typeof alg !== 'string' || !o.algorithms.includes(alg)) return invalid('the token is signed with an algorithm that is not allowed');
    // The issuer claim picks the key source; it is checked again, verified, by jwtVerify.
    let iss: unknown;
    try {
      iss = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'))?.iss;
    } catch {
      return invalid('the token is malformed');
    }
    const source = typeof iss === 'string' ? byIssuer.get(iss) : undefined;
    if (source === undefined) return invalid('the token does not have a valid issuer');

    let unavailable: JwtFailure | undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (h) => {
          // HMAC tokens are verified with the configured secret only, never with a JWKS entry (the public-key-as-secret attack).
          if (hmac.has(h.alg)) return o.hmacSecret!;
          const found = await source.jwks.getKey(h.kid, h.alg);
          if (found.ok) return found.key;
          if (found.reason === 'unavailable') unavailable = { kind: 'unavailable', transient: found.transient, detail: found.detail };
          throw new errors.JWKSNoMatchingKey();
        },
        {
          algorithms: [...o.algorithms],
          issuer: source.issuer,
          clockTolerance: leeway,
          currentDate: new Date(o.clock.now()),
          requiredClaims: ['exp'],
        },
      ));
    } catch (err) {
      if (unavailable) return { ok: false, failure: unavailable };
      return invalid(describe(err));
    }
    const now = o.clock.now() / 1000;
    if (typeof payload.iat === 'number' && payload.iat > now + leeway) return invalid('the token was issued in the future');
    if (o.flavour === 'jwt') {
      // AWS: aud must match; client_id counts only when the token has no aud.
      const aud = payload.aud;
      const candidates = aud === undefined ? [payload.client_id] : Array.isArray(aud) ? aud : [aud];
      if (!candidates.some((a) => typeof a === 'string' && o.audiences!.includes(a))) return invalid('the token does not have a valid audience');
    } else {
      const use = payload.token_use;
      if (use !== 'id' && use !== 'access') return invalid('the token has no valid token_use');
      const client = use === 'id' ? payload.aud : payload.client_id;
      if (o.audiences !== undefined && (typeof client !== 'string' || !o.audiences.includes(client))) {
        return invalid('the token was not issued to an accepted app client');
      }
      if (o.audienceRegex !== undefined && (typeof payload.aud !== 'string' || !o.audienceRegex.test(payload.aud))) {
        return invalid('the token audience does not match the validation expression');
      }
    }
    return { ok: true, claims: Object.freeze(payload) };
  }

  function cached(token: string, key: string, now: number): Readonly<JWTPayload> | undefined {
    const hit = cache!.get(key);
    if (hit === undefined) return undefined;
    if (now < hit.expiresAt) {
      stats.hits++;
      return hit.claims;
    }
    cache!.delete(key);
    return undefined;
  }

  return {
    stats,
    cached(token) {
      return cache === undefined ? undefined : cached(token, hashToken(token), o.clock.now());
    },
    async verify(token) {
      const now = o.clock.now();
      let key: string | undefined;
      if (cache !== undefined) {
        key = hashToken(token);
        const hit = cached(token, key, now);
        if (hit !== undefined) return { ok: true, claims: hit };
      }
      stats.verifications++;
      const result = await verifyUncached(token);
      if (result.ok && cache !== undefined) {
        // Never beyond exp (without leeway): a cached token expires exactly when the token does.
        const expiresAt = (result.claims.exp as number) * 1000;
        if (expiresAt > now) {
          if (cache.size >= o.tokenCacheSize) cache.delete(cache.keys().next().value!);
          cache.set(key!, { claims: result.claims, expiresAt });
        }
      }
      return result;
    },
  };
}

// One-shot crypto.hash: about half the cost of createHash().update().digest() (no Hash object per request).
function hashToken(token: string): string {
  return hash('sha256', token, 'base64');
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'the token is not valid yet';
    if (err.claim === 'iss') return 'the token does not have a valid issuer';
    if (err.claim === 'exp') return 'the token has no expiry';
    return `the token has an invalid ${err.claim} claim`;
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  return 'the token is malformed';
}

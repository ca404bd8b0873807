// The JWT/Cognito authorizer stage (phase 'authenticate', reference section 7): reads the token, verifies
// it (cached), applies the route's scope and token_use rules, and exposes claims to logs, policies and upstream.
import type { JWTPayload } from 'jose';
import type { Clock } from '../../../core/clock.ts';
import { deny, type Denial } from '../../../core/denial.ts';
import type { CognitoAuthorizer, JwtAuthorizer } from '../../../config/authorizer-schema.ts';
import { keySourceUrlDefect } from '../../../config/authorizer-checks.ts';
import { createJwksCache, KeySourceError, type FetchJson } from '../../../security/jwt/jwks-cache.ts';
import { createJwtVerifier, type JwtFailure, type JwtVerifier, type KeySource } from '../../../security/jwt/verify.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { RouteBuild, StageFactory, StageFn, StageResult } from '../../pipeline/stage.ts';
import { claimHeaderSetter, conditionKeysOf } from '../auth-common.ts';
import type { AuthorizerMetrics } from '../../../observe/security-metrics.ts';

export interface JwtAuthDeps {
  readonly clock: Clock;
  /** Verified-token cache hits and misses, JWKS refreshes (observe/security-metrics.ts); unset: not counted. */
  readonly authorizerMetrics?: AuthorizerMetrics;
}

type JwtLike = JwtAuthorizer | CognitoAuthorizer;

// Verifiers (with their JWKS and token caches) outlive snapshots: a redeploy with the same authorizer
// settings keeps its keys and verified tokens. Keyed by the node's deps object, then by the settings.
const registries = new WeakMap<object, Map<string, JwtVerifier>>();

function verifierFor(name: string, a: JwtLike, deps: JwtAuthDeps): JwtVerifier {
  let registry = registries.get(deps);
  if (registry === undefined) registries.set(deps, (registry = new Map()));
  const id = `${name}\n${JSON.stringify(a)}`;
  let v = registry.get(id);
  if (v === undefined) {
    v = buildVerifier(name, a, deps);
    registry.set(id, v);
  }
  return v;
}

function buildVerifier(name: string, a: JwtLike, deps: JwtAuthDeps): JwtVerifier {
  const { clock, authorizerMetrics } = deps;
  const limits = a.jwks;
  // One JWKS cache per issuer of the definition: the refresh metric's labels are bounded by the definition.
  const cacheFor = (issuer: string, resolveUrl: (f: FetchJson) => Promise<string>) =>
    createJwksCache({
      resolveUrl,
      clock,
      ttlMs: limits.ttlSeconds * 1000,
      cooldownMs: limits.cooldownSeconds * 1000,
      maxBytes: limits.maxBytes,
      timeoutMs: limits.timeoutMs,
      ...(authorizerMetrics ? { onRefresh: authorizerMetrics.jwksSource(name, issuer) } : {}),
    });
  let sources: KeySource[];
  if (a.type === 'jwt') {
    const fixed = a.jwksUrl;
    sources = [{ issuer: a.issuer, jwks: cacheFor(a.issuer, fixed !== undefined ? async () => fixed : discovery(a.issuer)) }];
  } else {
    sources = a.userPools.map((p) => {
      const issuer = p.issuer ?? cognitoPoolIssuer(p.poolId!);
      const url = p.jwksUrl ?? `${issuer}/.well-known/jwks.json`;
      return { issuer, jwks: cacheFor(issuer, async () => url) };
    });
  }
  let hmacSecret: Uint8Array | undefined;
  if (a.hmacSecretEnv !== undefined) {
    const value = process.env[a.hmacSecretEnv];
    // RFC 7518 3.2: an HMAC key must be at least as long as the hash output.
    if (value === undefined || Buffer.byteLength(value) < 32) {
      throw new Error(`hmacSecretEnv: environment variable ${a.hmacSecretEnv} must hold a secret of at least 32 bytes`);
    }
    hmacSecret = new TextEncoder().encode(value);
  }
  return createJwtVerifier({
    flavour: a.type,
    sources,
    audiences: a.type === 'jwt' ? a.audiences : a.clientIds,
    audienceRegex: a.type === 'cognito' && a.validationRegex !== undefined ? new RegExp(a.validationRegex) : undefined,
    algorithms: a.algorithms,
    hmacSecret,
    clockLeewaySeconds: a.clockLeewaySeconds,
    tokenCacheSize: a.tokenCacheSize,
    clock,
  });
}

/** A Cognito user pool's issuer, `https://cognito-idp.<region>.amazonaws.com/<poolId>` (the region is the id's prefix). */
export function cognitoPoolIssuer(poolId: string): string {
  return `https://cognito-idp.${poolId.slice(0, poolId.indexOf('_'))}.amazonaws.com/${poolId}`;
}

/** OIDC discovery (OpenID Connect Discovery 1.0 section 4): the document must name this issuer and a usable jwks_uri. */
function discovery(issuer: string): (f: FetchJson) => Promise<string> {
  let found: string | undefined;
  return async (fetchJson) => {
    if (found !== undefined) return found;
    const doc = (await fetchJson(`${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`)) as Record<string, unknown> | null;
    if (doc?.issuer !== issuer) throw new KeySourceError(`discovery document names issuer ${JSON.stringify(doc?.issuer)}, expected ${JSON.stringify(issuer)}`, false);
    const uri = doc.jwks_uri;
    if (typeof uri !== 'string') throw new KeySourceError('discovery document has no jwks_uri', false);
    const defect = keySourceUrlDefect(uri);
    if (defect) throw new KeySourceError(`jwks_uri ${uri} ${defect}`, false);
    return (found = uri);
  };
}

const BEARER = /^bearer\s+/i;
const quoteSafe = (s: string): string => s.replace(/["\\\r\n]/g, '');

function unauthorized(error: string | undefined, description: string, detail: string, scope?: string): Denial {
  // RFC 6750 3: no error code when the request carried no token at all.
  let header = 'Bearer';
  if (error !== undefined) {
    header += ` error="${error}", error_description="${quoteSafe(description)}"`;
    if (scope !== undefined) header += `, scope="${quoteSafe(scope)}"`;
  }
  return deny('UNAUTHORIZED', { detail, headers: { 'WWW-Authenticate': header } });
}

function failureDenial(f: JwtFailure, name: string): Denial {
  if (f.kind === 'invalid') return unauthorized('invalid_token', f.description, `authorizer ${name}: ${f.description}`);
  // No usable keys because the provider failed: a 5xx, never a 401 (peer-gateways 4.4). Transient outages are
  // AUTHORIZER_FAILURE; a key source answering something unusable is the operator's to fix.
  return deny(f.transient ? 'AUTHORIZER_FAILURE' : 'AUTHORIZER_CONFIGURATION_ERROR', {
    detail: `authorizer ${name}: no usable keys: ${f.detail}`,
  });
}

/** The token's scopes: `scope` (space-separated, RFC 8693) or `scp` (string or array, Azure/Okta). */
export function scopesOf(claims: JWTPayload): string[] {
  const s = claims.scope ?? claims.scp;
  if (typeof s === 'string') return s.split(' ').filter((x) => x !== '');
  if (Array.isArray(s)) return s.filter((x): x is string => typeof x === 'string');
  return [];
}

export const jwtAuthStage: StageFactory<JwtAuthDeps> = Object.freeze({
  name: 'jwt-authorizer',
  phase: 'authenticate' as const,
  create(build: RouteBuild<JwtAuthDeps>): StageFn | null {
    const auth = build.route.auth;
    if (typeof auth === 'string') return null;
    const a = build.definition.authorizers?.[auth.authorizer];
    if (a === undefined || (a.type !== 'jwt' && a.type !== 'cognito')) return null;
    const name = auth.authorizer;
    const verifier = verifierFor(name, a, build.deps);
    const header = a.tokenHeader.toLowerCase();
    const maxTokenBytes = a.maxTokenBytes;
    const routeScopes = auth.scopes ?? [];
    const hasScopes = routeScopes.length > 0;
    const scopeText = routeScopes.join(' ');
    const cognito = a.type === 'cognito';
    const setHeaders = claimHeaderSetter(a.claimHeaders);
    // Only the authorization stage reads condition keys, and it runs for this route only when the API has a
    // resource policy: without one, building the map per request would be wasted.
    const offerConditionKeys = build.api.resourcePolicy !== undefined;
    // Pre-bound for this API and authorizer (definition names only); none when the verified-token cache is off.
    const cacheCount = a.tokenCacheSize > 0 ? build.deps.authorizerMetrics?.cacheCounter(build.api.name || build.apiId, name) : undefined;

    function accept(ctx: RequestContext, claims: Readonly<JWTPayload>): StageResult {
      if (cognito) {
        // AWS: a route without scopes takes ID tokens, a route with scopes access tokens.
        const want = hasScopes ? 'access' : 'id';
        if (claims.token_use !== want) {
          return unauthorized('invalid_token', `the route requires an ${want} token`, `authorizer ${name}: token_use ${String(claims.token_use)}, route needs ${want}`);
        }
      }
      if (hasScopes) {
        const have = scopesOf(claims);
        if (!routeScopes.some((s) => have.includes(s))) {
          const description = 'the token does not have the required scope';
          const detail = `authorizer ${name}: token scopes [${have.join(' ')}] include none of [${scopeText}]`;
          // Cognito (REST) answers a scope mismatch with 401; an HTTP-API JWT authorizer with 403 insufficient_scope.
          if (cognito) return unauthorized('insufficient_scope', description, detail, scopeText);
          return deny('ACCESS_DENIED', {
            message: 'Forbidden',
            detail,
            headers: { 'WWW-Authenticate': `Bearer error="insufficient_scope", error_description="${description}", scope="${quoteSafe(scopeText)}"` },
          });
        }
      }
      ctx.authorizer = { claims };
      if (typeof claims.sub === 'string') ctx.authorizer.principalId = claims.sub;
      if (offerConditionKeys) {
        const keys = conditionKeysOf(ctx);
        for (const [k, v] of conditionEntries(claims)) keys.set(k, v);
      }
      setHeaders(ctx, (key) => claims[key]);
      return undefined;
    }

    return function jwtAuthorizer(ctx) {
      setHeaders.strip(ctx);
      const raw = ctx.req.headers[header];
      const value = typeof raw === 'string' ? raw.trim() : undefined;
      if (!value) return unauthorized(undefined, '', `authorizer ${name}: no ${a.tokenHeader} header`);
      const token = BEARER.test(value) ? value.replace(BEARER, '') : value;
      // Refused before any decoding: a huge token costs nothing but this length check.
      if (token.length > maxTokenBytes) return unauthorized('invalid_token', 'the token is too long', `authorizer ${name}: token of ${token.length} bytes`);
      const hit = verifier.cached(token);
      if (hit !== undefined) {
        if (cacheCount !== undefined) cacheCount.hits++;
        return accept(ctx, hit);
      }
      if (cacheCount !== undefined) cacheCount.misses++;
      return verifier.verify(token).then((r) => (r.ok ? accept(ctx, r.claims) : failureDenial(r.failure, name)));
    };
  },
});

// Derived once per verified claims object (a cached token reuses it), not per request.
const entriesByClaims = new WeakMap<object, ReadonlyArray<readonly [string, string | string[]]>>();

/** `jwt:<claim>` for every usable claim, plus `cognito:groups` when present. */
function conditionEntries(claims: Readonly<JWTPayload>): ReadonlyArray<readonly [string, string | string[]]> {
  let entries = entriesByClaims.get(claims);
  if (entries === undefined) {
    const list: Array<readonly [string, string | string[]]> = [];
    for (const k in claims) {
      const v = toConditionValue(claims[k]);
      if (v !== undefined) list.push([`jwt:${k.toLowerCase()}`, v]);
    }
    const groups = toConditionValue(claims['cognito:groups']);
    if (groups !== undefined) list.push(['cognito:groups', groups]);
    entriesByClaims.set(claims, (entries = Object.freeze(list)));
  }
  return entries;
}

function toConditionValue(v: unknown): string | string[] | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v as string[];
  return undefined;
}

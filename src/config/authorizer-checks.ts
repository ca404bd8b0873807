// Semantic checks of `authorizers` and the routes that name them: unknown names (with a suggestion),
// scopes only on jwt/cognito, https key sources, HMAC only with a secret, AWS's identity-source rules.
import type { PathSegment } from './problems.ts';
import { didYouMean } from './problems.ts';
import type { Definition } from './schema.ts';

type Add = (path: PathSegment[], message: string) => void;
const q = (s: string): string => JSON.stringify(s);

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
// Headers the gateway or HTTP itself owns: an authorizer may not set them upstream.
const RESERVED_HEADERS = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'te', 'trailer', 'expect']);

/** Why a key-source URL (JWKS, discovery) cannot be used; undefined when fine. http is for loopback development only. */
export function keySourceUrlDefect(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not a valid absolute URL';
  }
  if (u.username || u.password) return 'contains credentials, which are not allowed';
  if (u.protocol === 'https:') return undefined;
  if (u.protocol === 'http:' && LOOPBACK.has(u.hostname)) return undefined;
  return 'must be https (http is accepted only for localhost/127.0.0.1, for development): keys fetched in clear could be replaced';
}

export function checkAuthorizers(definition: Definition, add: Add): void {
  const authorizers = definition.authorizers ?? {};
  const names = Object.keys(authorizers);
  for (const [name, a] of Object.entries(authorizers)) {
    const at: PathSegment[] = ['authorizers', name];
    if (a.type === 'jwt' || a.type === 'cognito') {
      const hmac = a.algorithms.filter((alg) => alg.startsWith('HS'));
      if (hmac.length > 0 && a.hmacSecretEnv === undefined) {
        add([...at, 'algorithms'], `${hmac.join(', ')} needs hmacSecretEnv: HMAC algorithms are accepted only with an explicitly configured secret`);
      }
      if (a.hmacSecretEnv !== undefined && hmac.length === 0) add([...at, 'hmacSecretEnv'], 'hmacSecretEnv is set but algorithms lists no HS256/HS384/HS512');
      for (const header of Object.keys(a.claimHeaders)) {
        if (RESERVED_HEADERS.has(header.toLowerCase())) add([...at, 'claimHeaders', header], `${q(header)} cannot be set from a claim`);
      }
    }
    if (a.type === 'jwt') {
      if (a.jwksUrl !== undefined) {
        const d = keySourceUrlDefect(a.jwksUrl);
        if (d) add([...at, 'jwksUrl'], `jwksUrl ${d}`);
      } else {
        const d = keySourceUrlDefect(a.issuer);
        if (d) add([...at, 'issuer'], `issuer (used for OIDC discovery, as no jwksUrl is set) ${d}`);
      }
    } else if (a.type === 'cognito') {
      a.userPools.forEach((pool, i) => {
        if ((pool.poolId === undefined) === (pool.issuer === undefined)) {
          add([...at, 'userPools', i], 'give exactly one of poolId or issuer');
        }
        const jwks = pool.jwksUrl ?? (pool.issuer !== undefined ? `${pool.issuer}/.well-known/jwks.json` : undefined);
        if (jwks !== undefined) {
          const d = keySourceUrlDefect(jwks);
          if (d) add([...at, 'userPools', i, pool.jwksUrl !== undefined ? 'jwksUrl' : 'issuer'], `JWKS URL ${q(jwks)} ${d}`);
        }
      });
      if (a.validationRegex !== undefined) checkRegex(a.validationRegex, [...at, 'validationRegex'], add);
    } else {
      let u: URL | undefined;
      if ((a.url === undefined) === (a.module === undefined)) add(at, 'give exactly one of url (an HTTP authorizer) or module (a local JavaScript module)');
      else if (a.url !== undefined) {
        try {
          u = new URL(a.url);
        } catch {
          add([...at, 'url'], 'url is not a valid absolute URL');
        }
      }
      if (u && u.protocol !== 'http:' && u.protocol !== 'https:') add([...at, 'url'], 'url must be http: or https:');
      if (u && (u.username || u.password)) add([...at, 'url'], 'url contains credentials, which are not allowed');
      const sources = a.identitySources;
      if (a.type === 'token') {
        if (sources !== undefined && (sources.length !== 1 || !sources[0].startsWith('header.'))) {
          add([...at, 'identitySources'], 'a token authorizer takes exactly one header.X identity source');
        }
      } else {
        if (a.validationRegex !== undefined) add([...at, 'validationRegex'], 'validationRegex applies to token authorizers only (as in AWS)');
        if (a.resultTtlSeconds > 0 && (sources === undefined || sources.length === 0)) {
          add([...at, 'identitySources'], 'a request authorizer with caching (resultTtlSeconds > 0) needs at least one identity source: they form the cache key');
        }
      }
      if (a.validationRegex !== undefined) checkRegex(a.validationRegex, [...at, 'validationRegex'], add);
      for (const header of Object.keys(a.contextHeaders)) {
        if (RESERVED_HEADERS.has(header.toLowerCase())) add([...at, 'contextHeaders', header], `${q(header)} cannot be set from authorizer context`);
      }
    }
  }

  definition.apis.forEach((api, ai) => {
    api.routes.forEach((route, ri) => {
      if (typeof route.auth === 'string') return;
      const path: PathSegment[] = ['apis', ai, 'routes', ri, 'auth'];
      const a = authorizers[route.auth.authorizer];
      if (a === undefined) {
        add([...path, 'authorizer'], `unknown authorizer ${q(route.auth.authorizer)}${didYouMean(route.auth.authorizer, names)}`);
        return;
      }
      if (route.auth.scopes !== undefined && a.type !== 'jwt' && a.type !== 'cognito') {
        add([...path, 'scopes'], `scopes apply to jwt and cognito authorizers only; ${q(route.auth.authorizer)} is a ${a.type} authorizer`);
      }
    });
  });
}

function checkRegex(source: string, path: PathSegment[], add: Add): void {
  try {
    new RegExp(source);
  } catch (err) {
    add(path, `not a valid regular expression: ${(err as Error).message}`);
  }
}

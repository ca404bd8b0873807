// JWT and Cognito authorizers through a running gateway: tokens from a real OpenID provider (oidc-provider,
// client credentials, RS256 JWT access tokens) including a key rotation under load, the negative cases
// signed with jose, Cognito-shaped tokens from a local JWKS server, and an identity provider that is down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const AUDIENCE = 'https://api.gateway.test';
const LOCAL_ISS = 'https://issuer.test';

interface Signer {
  kid: string;
  alg: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signer(kid: string, alg = 'RS256'): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

/** A provider that can be swapped under a fixed issuer URL (the rotation test restarts it with new keys). */
async function startOidc(): Promise<{ issuer: string; use(keys: JWK[]): void; token(scope: string): Promise<string>; close(): Promise<void> }> {
  let handler: http.RequestListener = (_q, s) => s.writeHead(503).end();
  const server = http.createServer((q, s) => handler(q, s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const use = (keys: JWK[]) => {
    const provider = new Provider(issuer, {
      clients: [{ client_id: 'gw-client', client_secret: 'gw-secret', grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: 'pets:read pets:write' }],
      jwks: { keys },
      scopes: ['pets:read', 'pets:write'],
      ttl: { ClientCredentials: 300 },
      features: {
        devInteractions: { enabled: false },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => AUDIENCE,
          getResourceServerInfo: () => ({ scope: 'pets:read pets:write', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: 300, jwt: { sign: { alg: 'RS256' } } }),
        },
      },
    });
    handler = provider.callback() as http.RequestListener;
  };
  return {
    issuer,
    use,
    async token(scope) {
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { authorization: `Basic ${Buffer.from('gw-client:gw-secret').toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: AUDIENCE }),
      });
      assert.equal(res.status, 200, await res.clone().text());
      return ((await res.json()) as { access_token: string }).access_token;
    },
    close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** A JWKS server that counts its hits (any path: also serves Cognito's /.well-known/jwks.json). */
async function startJwks(keys: JWK[]) {
  const state = { keys, hits: 0 };
  const srv = await startServer((_q, s) => {
    state.hits++;
    s.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: state.keys }));
  });
  return Object.assign(state, { url: srv.url, close: srv.close });
}

const now = () => Math.floor(Date.now() / 1000);

let oidc: Awaited<ReturnType<typeof startOidc>>;
let jwks: Awaited<ReturnType<typeof startJwks>>;
let attacker: Awaited<ReturnType<typeof startJwks>>;
let echo: Awaited<ReturnType<typeof startServer>>;
let gw: TestGateway;
let local: Signer;
let evil: Signer;
let others: Signer[];
let oidcKey1: JWK;
let deadUrl: string;

function sign(claims: Record<string, unknown>, opts: { key?: Signer; header?: Record<string, unknown>; crit?: Record<string, boolean> } = {}) {
  const key = opts.key ?? local;
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...opts.header }).sign(key.privateKey, opts.crit ? { crit: opts.crit } : undefined);
}
const good = (extra: Record<string, unknown> = {}) => ({ iss: LOCAL_ISS, aud: 'aud-1', sub: 'user-1', iat: now() - 10, exp: now() + 300, ...extra });

function get(path: string, token?: string, headers: Record<string, string> = {}) {
  return request(gw.url, `/prod${path}`, { headers: token === undefined ? headers : { authorization: `Bearer ${token}`, ...headers } });
}

before(async () => {
  local = await signer('L1');
  evil = await signer('L1');
  // One key per algorithm: RS256 (local), and ES256, PS256, EdDSA (accepted by default) and RS384 (not).
  others = await Promise.all([signer('E1', 'ES256'), signer('P1', 'PS256'), signer('D1', 'EdDSA'), signer('R3', 'RS384')]);
  jwks = await startJwks([local.jwk, ...others.map((o) => o.jwk)]);
  attacker = await startJwks([evil.jwk]);
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  oidcKey1 = { ...(await exportJWK(privateKey)), kid: 'oidc-1', alg: 'RS256', use: 'sig' };
  oidc = await startOidc();
  oidc.use([oidcKey1]);
  echo = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers }));
  });
  const dead = await startServer(() => {});
  deadUrl = dead.url;
  await dead.close();
  const proxy = { type: 'http_proxy', url: `${echo.url}/` };
  const route = (path: string, auth: unknown) => ({ method: 'GET', path, auth, integration: proxy });
  gw = await startTestGateway({
    settings: { maxHeaderBytes: 16_000, accessLog: { format: '$context.requestId $context.resourcePath $context.status $context.authorizer.claims.sub' } },
    authorizers: {
      oidc: { type: 'jwt', issuer: oidc.issuer, audiences: [AUDIENCE], claimHeaders: { 'X-Auth-Sub': 'sub', 'X-Auth-Scope': 'scope' } },
      local: { type: 'jwt', issuer: LOCAL_ISS, audiences: ['aud-1'], jwksUrl: `${jwks.url}/jwks`, claimHeaders: { 'X-Auth-Sub': 'sub' } },
      bare: { type: 'jwt', issuer: LOCAL_ISS, audiences: ['aud-1'], jwksUrl: `${jwks.url}/jwks`, tokenHeader: 'X-Token' },
      dead: { type: 'jwt', issuer: LOCAL_ISS, audiences: ['aud-1'], jwksUrl: `${deadUrl}/jwks` },
      broken: { type: 'jwt', issuer: LOCAL_ISS, audiences: ['aud-1'], jwksUrl: `${echo.url}/not-a-jwks` },
      pool: { type: 'cognito', userPools: [{ issuer: `${jwks.url}/us-east-1_Pool1` }], clientIds: ['client-a'], claimHeaders: { 'X-Groups': 'cognito:groups' } },
      poolRe: { type: 'cognito', userPools: [{ issuer: `${jwks.url}/us-east-1_Pool1` }], validationRegex: '^client-[a-c]$' },
    },
    apis: [{
      name: 'pets',
      stages: { prod: {} },
      routes: [
        route('/oidc', { authorizer: 'oidc' }),
        route('/oidc-write', { authorizer: 'oidc', scopes: ['pets:write', 'admin'] }),
        route('/local', { authorizer: 'local' }),
        route('/local-scoped', { authorizer: 'local', scopes: ['pets:write', 'admin'] }),
        route('/bare', { authorizer: 'bare' }),
        route('/dead', { authorizer: 'dead' }),
        route('/broken', { authorizer: 'broken' }),
        route('/cognito-id', { authorizer: 'pool' }),
        route('/cognito-access', { authorizer: 'pool', scopes: ['pets/read'] }),
        route('/cognito-re', { authorizer: 'poolRe' }),
        route('/cognito-re-access', { authorizer: 'poolRe', scopes: ['pets/read'] }),
      ],
    }, {
      // Claims as policy condition keys: the resource policy allows everyone but members of "banned" and
      // the subject "user-9" (jwt:* and cognito:groups, ForAnyValue for the multivalued group claim).
      name: 'claims-policy',
      basePath: '/policy',
      stages: { prod: {} },
      resourcePolicy: {
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' },
          { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { 'ForAnyValue:StringEquals': { 'cognito:groups': ['banned'] } } },
          { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { StringEquals: { 'jwt:sub': 'user-9' } } },
        ],
      },
      routes: [route('/local', { authorizer: 'local' }), route('/cognito-id', { authorizer: 'pool' })],
    }],
  });
});

after(async () => {
  await gw?.close();
  await Promise.all([oidc?.close(), jwks?.close(), attacker?.close(), echo?.close()]);
});

describe('tokens from a real OpenID provider (oidc-provider, client credentials)', () => {
  test('a valid access token passes; claims reach the upstream as configured headers and the access log', async () => {
    const token = await oidc.token('pets:read');
    const res = await get('/oidc', token, { 'x-auth-sub': 'admin' });
    assert.equal(res.status, 200, res.body);
    const seen = JSON.parse(res.body).headers;
    assert.equal(seen['x-auth-sub'], 'gw-client', 'the client-supplied copy is replaced by the verified claim');
    assert.equal(seen['x-auth-scope'], 'pets:read');
    assert.ok(gw.logLines.some((l) => l.endsWith(' /oidc 200 gw-client')), gw.logLines.join('\n'));
  });

  test('a route scope the token lacks: 403 Forbidden with insufficient_scope; any one route scope suffices', async () => {
    const read = await oidc.token('pets:read');
    const res = await get('/oidc-write', read);
    assert.equal(res.status, 403);
    assert.equal(res.body, '{"message":"Forbidden"}');
    assert.match(String(res.headers['www-authenticate']), /^Bearer error="insufficient_scope", error_description="[^"]+", scope="pets:write admin"$/);
    assert.equal((await get('/oidc-write', await oidc.token('pets:read pets:write'))).status, 200);
  });

  test('the provider rotates its signing key during traffic: no request fails', async () => {
    const before = await oidc.token('pets:read');
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const key2 = { ...(await exportJWK(privateKey)), kid: 'oidc-2', alg: 'RS256', use: 'sig' };
    let stop = false;
    const statuses: number[] = [];
    const traffic = (async () => {
      while (!stop) statuses.push((await get('/oidc', before)).status);
    })();
    // The new key signs; the old one is still published for tokens already issued (standard rotation).
    oidc.use([key2, oidcKey1]);
    const after = await oidc.token('pets:read');
    assert.notEqual(JSON.parse(Buffer.from(after.split('.')[0], 'base64url').toString()).kid, 'oidc-1');
    const burst = await Promise.all(Array.from({ length: 20 }, () => get('/oidc', after)));
    stop = true;
    await traffic;
    assert.deepEqual(burst.map((r) => r.status), Array(20).fill(200));
    assert.ok(statuses.length > 0 && statuses.every((s) => s === 200), `statuses during rotation: ${statuses.join(',')}`);
  });
});

describe('negative cases signed with jose', () => {
  test('a valid token passes bare or with Bearer; a missing token is 401 with a bare Bearer challenge', async () => {
    const t = await sign(good());
    assert.equal((await get('/local', t)).status, 200);
    assert.equal((await request(gw.url, '/prod/local', { headers: { authorization: t } })).status, 200);
    assert.equal((await request(gw.url, '/prod/bare', { headers: { 'x-token': t } })).status, 200);
    const res = await get('/local');
    assert.equal(res.status, 401);
    assert.equal(res.body, '{"message":"Unauthorized"}');
    assert.equal(res.headers['www-authenticate'], 'Bearer');
    assert.equal(res.headers['x-amzn-errortype'], 'UnauthorizedException');
  });

  test('the default algorithms are RS256, ES256, PS256 and EdDSA; others (RS384) must be configured', async () => {
    for (const key of others.slice(0, 3)) assert.equal((await get('/local', await sign(good(), { key }))).status, 200, key.alg);
    const res = await get('/local', await sign(good(), { key: others[3] }));
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /algorithm that is not allowed/);
  });

  const cases: Array<[string, () => Promise<string>, RegExp]> = [
    ['alg none', async () => {
      const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', kid: 'L1' })}.${enc(good())}.`;
    }, /algorithm that is not allowed/],
    ['HS256 signed with the RSA public key as the secret', async () => {
      const pem = createPublicKey({ key: local.jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
      return new SignJWT(good()).setProtectedHeader({ alg: 'HS256', kid: 'L1' }).sign(new TextEncoder().encode(String(pem)));
    }, /algorithm that is not allowed/],
    ['an unknown kid', () => sign(good(), { key: { ...evil, kid: 'nope' } }), /no key matches/],
    ['an attacker key embedded as jwk with our kid', async () => sign(good(), { key: evil, header: { jwk: evil.jwk } }), /signature is invalid/],
    ['jku and x5u pointing to the attacker', async () => sign(good(), { key: { ...evil, kid: 'evil' }, header: { jku: `${attacker.url}/jwks`, x5u: `${attacker.url}/cert` } }), /no key matches/],
    ['a crit header', () => sign(good(), { header: { crit: ['exp2'], exp2: 1 }, crit: { exp2: true } }), /critical/],
    ['expired', () => sign(good({ exp: now() - 5 })), /expired/],
    ['not yet valid', () => sign(good({ nbf: now() + 600 })), /not valid yet/],
    ['issued in the future', () => sign(good({ iat: now() + 600 })), /issued in the future/],
    ['a wrong issuer', () => sign(good({ iss: 'https://evil.test' })), /issuer/],
    ['a wrong audience', () => sign(good({ aud: 'other' })), /audience/],
    ['client_id ignored when aud is present', () => sign(good({ aud: 'other', client_id: 'aud-1' })), /audience/],
    ['a tampered payload', async () => {
      const [h, , s] = (await sign(good())).split('.');
      return `${h}.${Buffer.from(JSON.stringify(good({ sub: 'admin' }))).toString('base64url')}.${s}`;
    }, /signature is invalid/],
    ['no exp', () => sign({ iss: LOCAL_ISS, aud: 'aud-1', sub: 'x' }), /exp/],
    ['garbage', async () => 'not.a.jwt', /malformed/],
  ];
  for (const [name, make, why] of cases) {
    test(`${name}: 401 with invalid_token`, async () => {
      const res = await get('/local', await make());
      assert.equal(res.status, 401, res.body);
      assert.equal(res.body, '{"message":"Unauthorized"}');
      const challenge = String(res.headers['www-authenticate']);
      assert.match(challenge, /^Bearer error="invalid_token", error_description="[^"]+"$/);
      assert.match(challenge, why);
    });
  }

  test('route scopes come from scope (space-separated) or scp (string or list); any one route scope suffices', async () => {
    const statuses = await Promise.all([
      get('/local-scoped', await sign(good({ scope: 'pets:read admin' }))),
      get('/local-scoped', await sign(good({ scp: ['openid', 'pets:write'] }))),
      get('/local-scoped', await sign(good({ scp: 'admin' }))),
      get('/local-scoped', await sign(good({ scope: 'pets:read', scp: ['nothing'] }))),
      get('/local-scoped', await sign(good())),
    ]);
    assert.deepEqual(statuses.map((r) => r.status), [200, 200, 200, 403, 403]);
  });

  test('jku/x5u are never fetched; client_id stands in for a missing aud', async () => {
    assert.equal(attacker.hits, 0);
    assert.equal((await get('/local', await sign(good({ aud: undefined, client_id: 'aud-1' })))).status, 200);
  });

  test('unknown kids cannot amplify JWKS fetches', async () => {
    const before = jwks.hits;
    await Promise.all(Array.from({ length: 30 }, (_, i) => sign(good(), { key: { ...evil, kid: `x${i}` } }).then((t) => get('/local', t))));
    assert.ok(jwks.hits - before <= 1, `${jwks.hits - before} fetches for 30 forged kids`);
  });

  test('an over-long token is refused before parsing (token limit), a 1 MB one by the header limits', async () => {
    const long = 'a'.repeat(9_000);
    const res = await get('/local', long);
    assert.equal(res.status, 401);
    assert.match(String(res.headers['www-authenticate']), /too long/);
    const huge = await get('/local', 'a'.repeat(1_048_576)).catch((err: Error) => ({ status: -1, body: err.message }));
    assert.ok(huge.status === 431 || huge.status === 413 || huge.status === -1, `1 MB token: ${huge.status}`);
  });

  test('an identity provider that is down with no keys loaded is a 5xx, never a 401', async () => {
    const res = await get('/dead', await sign(good()));
    assert.equal(res.status, 500);
    assert.equal(res.headers['x-amzn-errortype'], 'AuthorizerFailureException');
  });

  test('a key source answering something that is not a JWKS is AUTHORIZER_CONFIGURATION_ERROR', async () => {
    const res = await get('/broken', await sign(good()));
    assert.equal(res.status, 500);
    assert.equal(res.body, '{"message":null}');
    assert.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException');
  });
});

describe('Cognito user-pool flavour (tokens in Cognito\'s shape from a local JWKS)', () => {
  const POOL_ISS = () => `${jwks.url}/us-east-1_Pool1`;
  const idToken = (extra: Record<string, unknown> = {}) =>
    sign({ iss: POOL_ISS(), aud: 'client-a', sub: 'u-1', token_use: 'id', 'cognito:groups': ['admin', 'dev'], iat: now(), exp: now() + 300, ...extra });
  const accessToken = (extra: Record<string, unknown> = {}) =>
    sign({ iss: POOL_ISS(), client_id: 'client-a', sub: 'u-1', token_use: 'access', scope: 'pets/read openid', iat: now(), exp: now() + 300, ...extra });

  test('an ID token on a route without scopes; cognito:groups reach the upstream', async () => {
    const res = await get('/cognito-id', await idToken());
    assert.equal(res.status, 200, res.body);
    assert.equal(JSON.parse(res.body).headers['x-groups'], 'admin,dev');
  });

  test('an access token with the scope on a scoped route', async () => {
    assert.equal((await get('/cognito-access', await accessToken())).status, 200);
  });

  test('wrong token_use per route, missing scope, wrong client or pool: 401', async () => {
    const statuses = await Promise.all([
      get('/cognito-id', await accessToken()),
      get('/cognito-access', await idToken()),
      get('/cognito-access', await accessToken({ scope: 'openid' })),
      get('/cognito-id', await idToken({ aud: 'client-b' })),
      get('/cognito-access', await accessToken({ client_id: 'client-b' })),
      get('/cognito-id', await idToken({ token_use: undefined })),
      get('/cognito-id', await idToken({ iss: `${jwks.url}/us-east-1_Other` })),
    ]);
    assert.deepEqual(statuses.map((r) => r.status), [401, 401, 401, 401, 401, 401, 401]);
    assert.match(String(statuses[2].headers['www-authenticate']), /insufficient_scope/);
  });

  test('validationRegex (AWS identityValidationExpression) is matched against aud, so access tokens never pass it', async () => {
    assert.equal((await get('/cognito-re', await idToken({ aud: 'client-b' }))).status, 200, 'no clientIds: any client matching the expression');
    const refused = await get('/cognito-re', await idToken({ aud: 'client-z' }));
    assert.equal(refused.status, 401);
    assert.equal(refused.body, '{"message":"Unauthorized"}');
    assert.match(String(refused.headers['www-authenticate']), /validation expression/);
    assert.equal((await get('/cognito-re-access', await accessToken())).status, 401, 'an access token has no aud to match');
  });

  test('cognito:groups and jwt:* claims are condition keys of the resource policy', async () => {
    const call = (path: string, token: string) => request(gw.url, `/policy/prod${path}`, { headers: { authorization: token } });
    assert.equal((await call('/cognito-id', await idToken())).status, 200);
    const banned = await call('/cognito-id', await idToken({ 'cognito:groups': ['dev', 'banned'] }));
    assert.equal(banned.status, 403, banned.body);
    assert.equal(banned.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.equal((await call('/local', await sign(good()))).status, 200);
    assert.equal((await call('/local', await sign(good({ sub: 'user-9' })))).status, 403);
  });
});

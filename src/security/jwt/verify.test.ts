// Tests of the JWT verifier with a fake clock: the verified-token cache (hits, never past exp, bounded),
// leeway, and the stage's condition keys and claims for policies.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createFakeClock } from '../../core/clock.ts';
import { createJwksCache } from './jwks-cache.ts';
import { createJwtVerifier } from './verify.ts';
import { DefinitionSchema } from '../../config/schema.ts';
import { cognitoPoolIssuer, jwtAuthStage } from '../../gateway/stages/jwt-auth/stage.ts';
import type { RequestContext } from '../../gateway/pipeline/context.ts';

async function setup(tokenCacheSize = 100, leeway = 0) {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256' };
  let hits = 0;
  const server = http.createServer((_q, s) => {
    hits++;
    s.end(JSON.stringify({ keys: [jwk] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  const clock = createFakeClock(Date.UTC(2026, 0, 1));
  const jwks = createJwksCache({ resolveUrl: async () => url, clock, ttlMs: 3_600_000, cooldownMs: 30_000, maxBytes: 150_000, timeoutMs: 1_500 });
  const verifier = createJwtVerifier({
    flavour: 'jwt', sources: [{ issuer: 'https://iss', jwks }], audiences: ['a'], algorithms: ['RS256'],
    clockLeewaySeconds: leeway, tokenCacheSize, clock,
  });
  const t0 = Math.floor(clock.now() / 1000);
  const sign = (claims: Record<string, unknown>) =>
    new SignJWT({ iss: 'https://iss', aud: 'a', sub: 's', iat: t0, exp: t0 + 60, ...claims }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
  return { clock, verifier, sign, url, hits: () => hits, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

test('a verified token is served from the cache, and never after its exp', async () => {
  const h = await setup();
  try {
    const token = await h.sign({});
    assert.equal((await h.verifier.verify(token)).ok, true);
    assert.ok(h.verifier.cached(token));
    assert.equal((await h.verifier.verify(token)).ok, true);
    assert.deepEqual(h.verifier.stats, { hits: 2, verifications: 1 });
    h.clock.advance(59_999);
    assert.ok(h.verifier.cached(token), 'still valid 1 ms before exp');
    h.clock.advance(1);
    assert.equal(h.verifier.cached(token), undefined, 'gone exactly at exp');
    const r = await h.verifier.verify(token);
    assert.ok(!r.ok && r.failure.kind === 'invalid' && /expired/.test(r.failure.description));
  } finally {
    await h.close();
  }
});

test('failures are never cached; the cache is bounded; size 0 turns it off', async () => {
  const h = await setup(2);
  try {
    const bad = await h.sign({ aud: 'b' });
    await h.verifier.verify(bad);
    assert.equal(h.verifier.cached(bad), undefined);
    const [t1, t2, t3] = await Promise.all([h.sign({ sub: '1' }), h.sign({ sub: '2' }), h.sign({ sub: '3' })]);
    for (const t of [t1, t2, t3]) await h.verifier.verify(t);
    assert.equal(h.verifier.cached(t1), undefined, 'the oldest entry was evicted');
    assert.ok(h.verifier.cached(t3));
    const off = await setup(0);
    try {
      const t = await off.sign({});
      await off.verifier.verify(t);
      await off.verifier.verify(t);
      assert.equal(off.verifier.stats.verifications, 2);
      assert.equal(off.verifier.cached(t), undefined);
    } finally {
      await off.close();
    }
  } finally {
    await h.close();
  }
});

test('clock leeway applies to exp and nbf', async () => {
  const h = await setup(0, 30);
  try {
    const token = await h.sign({ nbf: Math.floor(h.clock.now() / 1000) + 20 });
    assert.equal((await h.verifier.verify(token)).ok, true, 'nbf 20 s ahead within 30 s leeway');
    h.clock.advance(85_000);
    assert.equal((await h.verifier.verify(token)).ok, true, 'exp passed 25 s ago, within leeway');
    h.clock.advance(10_000);
    assert.equal((await h.verifier.verify(token)).ok, false);
  } finally {
    await h.close();
  }
});

test('the stage exposes claims as $context.authorizer.claims and condition keys (jwt:*, cognito:groups)', async () => {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' };
  const server = http.createServer((_q, s) => s.end(JSON.stringify({ keys: [jwk] })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const def = DefinitionSchema.parse({
      authorizers: { pool: { type: 'cognito', userPools: [{ issuer: `${base}/pool` }] } },
      apis: [{
        name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth: { authorizer: 'pool' }, integration: { type: 'mock' } }],
        resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }] },
      }],
    });
    const clock = createFakeClock(Date.now());
    const api = def.apis[0];
    const fn = jwtAuthStage.create({ api, apiId: 'abcdefghij', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps: { clock } })!;
    const t = Math.floor(clock.now() / 1000);
    const token = await new SignJWT({ iss: `${base}/pool`, aud: 'c', sub: 'u-1', token_use: 'id', 'cognito:groups': ['admin'], email_verified: true, iat: t, exp: t + 60 })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' }).sign(privateKey);
    const ctx = { req: { headers: { authorization: `Bearer ${token}` } }, authorizer: {}, extensions: {} } as unknown as RequestContext;
    assert.equal(await fn(ctx), undefined);
    assert.equal((ctx.authorizer.claims as Record<string, unknown>).sub, 'u-1');
    assert.equal(ctx.authorizer.principalId, 'u-1');
    const keys = ctx.extensions.conditionKeys as Map<string, unknown>;
    assert.equal(keys.get('jwt:sub'), 'u-1');
    assert.equal(keys.get('jwt:email_verified'), 'true');
    assert.deepEqual(keys.get('cognito:groups'), ['admin']);
    assert.deepEqual(keys.get('jwt:cognito:groups'), ['admin']);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('HMAC: only with the configured secret, never with a JWKS key; the secret must exist and be 32 bytes', async () => {
  const secret = new TextEncoder().encode('s'.repeat(32));
  const clock = createFakeClock(Date.UTC(2026, 0, 1));
  const { publicKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: 'k1' };
  const jwks = createJwksCache({ resolveUrl: async () => 'http://127.0.0.1:1/never', clock, ttlMs: 1, cooldownMs: 1, maxBytes: 1, timeoutMs: 1 });
  const verifier = createJwtVerifier({
    flavour: 'jwt', sources: [{ issuer: 'https://iss', jwks }], audiences: ['a'], algorithms: ['HS256'], hmacSecret: secret,
    clockLeewaySeconds: 0, tokenCacheSize: 0, clock,
  });
  const t0 = Math.floor(clock.now() / 1000);
  const claims = { iss: 'https://iss', aud: 'a', iat: t0, exp: t0 + 60 };
  assert.equal((await verifier.verify(await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret))).ok, true);
  const other = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(new TextEncoder().encode('t'.repeat(32)));
  assert.equal((await verifier.verify(other)).ok, false);
  const withJwk = await new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).sign(new TextEncoder().encode(JSON.stringify(jwk)));
  assert.equal((await verifier.verify(withJwk)).ok, false);
  assert.equal(jwks.stats.fetches, 0, 'HMAC tokens never consult the key set');

  const def = DefinitionSchema.parse({
    authorizers: { h: { type: 'jwt', issuer: 'https://iss', audiences: ['a'], jwksUrl: 'https://keys.example.com/jwks', algorithms: ['HS256'], hmacSecretEnv: 'PORTCULLIS_TEST_MISSING_SECRET' } },
    apis: [{ name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth: { authorizer: 'h' }, integration: { type: 'mock' } }] }],
  });
  const api = def.apis[0];
  assert.throws(
    () => jwtAuthStage.create({ api, apiId: 'abcdefghij', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps: { clock } }),
    /PORTCULLIS_TEST_MISSING_SECRET must hold a secret of at least 32 bytes/,
  );
});

test('a Cognito pool id gives AWS\'s issuer, https://cognito-idp.<region>.amazonaws.com/<poolId>', () => {
  assert.equal(cognitoPoolIssuer('us-east-1_AbC123'), 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_AbC123');
  assert.equal(cognitoPoolIssuer('ap-southeast-2_x9'), 'https://cognito-idp.ap-southeast-2.amazonaws.com/ap-southeast-2_x9');
});

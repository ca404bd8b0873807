// Authorizer metrics through a running gateway, read from the admin listener's /metrics: result-cache hits and
// misses of custom authorizers (HTTP and module) and of the JWT authorizer's verified-token cache, per API and
// authorizer of the definition only; JWKS refreshes counted ok, and error when the key endpoint is down.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { ADMIN_TOKEN, TEST_MASTER_KEY, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const ISS = 'https://issuer.metrics.test';
const DEAD_ISS = 'https://dead.metrics.test';

interface Signer { kid: string; privateKey: CryptoKey; jwk: JWK }

async function signer(kid: string): Promise<Signer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

const now = () => Math.floor(Date.now() / 1000);
const sign = (key: Signer, claims: Record<string, unknown> = {}) =>
  new SignJWT({ iss: ISS, aud: 'aud-1', sub: 'user-1', iat: now() - 10, exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: key.kid })
    .sign(key.privateKey);

let authzCalls = 0;
let authz: Awaited<ReturnType<typeof startServer>>;
let echo: Awaited<ReturnType<typeof startServer>>;
let jwksServer: Awaited<ReturnType<typeof startServer>>;
const jwksState = { down: false, hits: 0, keys: [] as JWK[] };
let deadUrl: string;
let modulesDir: string;
let k1: Signer;
let k2: Signer;
let gw: TestGateway;

const allow = { principalId: 'u', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } };

before(async () => {
  k1 = await signer('K1');
  k2 = await signer('K2'); // published only later: an unknown kid forces a refetch
  jwksState.keys = [k1.jwk];
  authz = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      authzCalls++;
      const token = (JSON.parse(Buffer.concat(chunks).toString()) as { authorizationToken?: string }).authorizationToken ?? '';
      const reply = () =>
        token.endsWith('unauth')
          ? res.writeHead(401, { 'content-type': 'application/json' }).end('{"message":"Unauthorized"}')
          : res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(allow));
      // A slow answer keeps the first call in flight while the others arrive.
      if (token.endsWith('slow')) setTimeout(reply, 200);
      else reply();
    });
  });
  echo = await startServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'));
  jwksServer = await startServer((_req, res) => {
    jwksState.hits++;
    if (jwksState.down) return void res.writeHead(503).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: jwksState.keys }));
  });
  const dead = await startServer(() => {});
  deadUrl = dead.url;
  await dead.close();
  modulesDir = await mkdtemp(join(tmpdir(), 'portcullis-metrics-modules-'));
  await writeFile(join(modulesDir, 'allow.mjs'), `export const handler = () => (${JSON.stringify(allow)});`);

  const proxy = { type: 'http_proxy', url: `${echo.url}/` };
  const route = (path: string, authorizer: string) => ({ method: 'GET', path, auth: { authorizer }, integration: proxy });
  gw = await startTestGateway(
    {
      authorizers: {
        tok: { type: 'token', url: `${authz.url}/authorize`, timeoutMs: 1000 },
        tok0: { type: 'token', url: `${authz.url}/authorize`, resultTtlSeconds: 0, timeoutMs: 1000 },
        mod: { type: 'token', module: 'allow.mjs', timeoutMs: 1000 },
        jwt: { type: 'jwt', issuer: ISS, audiences: ['aud-1'], jwksUrl: `${jwksServer.url}/jwks` },
        jwt0: { type: 'jwt', issuer: ISS, audiences: ['aud-1'], jwksUrl: `${jwksServer.url}/jwks`, tokenCacheSize: 0 },
        dead: { type: 'jwt', issuer: DEAD_ISS, audiences: ['aud-1'], jwksUrl: `${deadUrl}/jwks` },
      },
      apis: [
        {
          name: 'pets',
          stages: { prod: {}, beta: {} },
          routes: [route('/tok', 'tok'), route('/tok0', 'tok0'), route('/mod', 'mod'), route('/jwt', 'jwt'), route('/jwt0', 'jwt0'), route('/dead', 'dead')],
        },
        { name: 'orders', basePath: '/orders', stages: { prod: {} }, routes: [route('/tok', 'tok')] },
      ],
    },
    { env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY, PORTCULLIS_AUTHORIZER_MODULES_DIR: modulesDir } },
  );
});

after(async () => {
  await gw?.close();
  await Promise.all([authz?.close(), echo?.close(), jwksServer?.close()]);
  if (modulesDir) await rm(modulesDir, { recursive: true, force: true });
});

const call = (path: string, token: string, stage = 'prod') => request(gw.url, `/${stage}${path}`, { headers: { authorization: `Bearer ${token}` } });

interface Sample { name: string; labels: Record<string, string>; value: number }

/** Every sample of /metrics from the admin listener, labels parsed (order-independent). */
async function scrape(): Promise<Sample[]> {
  const res = await request(gw.adminUrl, '/metrics', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  assert.equal(res.status, 200, res.body);
  const out: Sample[] = [];
  for (const line of res.body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function value(samples: Sample[], name: string, labels: Record<string, string>): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  assert.ok(found.length <= 1, `${name} ${JSON.stringify(labels)} matches ${found.length} series`);
  return found[0]?.value;
}

const CACHE = 'portcullis_authorizer_cache_total';
const cache = async (api: string, authorizer: string) => {
  const s = await scrape();
  return { hit: value(s, CACHE, { api, authorizer, result: 'hit' }), miss: value(s, CACHE, { api, authorizer, result: 'miss' }) };
};
const JWKS = 'portcullis_jwks_refreshes_total';
const jwks = async (authorizer: string, issuer: string) => {
  const s = await scrape();
  return { ok: value(s, JWKS, { authorizer, issuer, result: 'ok' }), error: value(s, JWKS, { authorizer, issuer, result: 'error' }) };
};

describe('portcullis_authorizer_cache_total (custom authorizers)', () => {
  test('series exist at 0 from the deploy, only for (API, authorizer) pairs of the definition with the cache on', async () => {
    const series = (await scrape()).filter((s) => s.name === CACHE);
    const keys = series.map((s) => `${s.labels.api}/${s.labels.authorizer}/${s.labels.result}`).sort();
    assert.deepEqual(keys, [
      'orders/tok/hit', 'orders/tok/miss',
      'pets/dead/hit', 'pets/dead/miss',
      'pets/jwt/hit', 'pets/jwt/miss',
      'pets/mod/hit', 'pets/mod/miss',
      'pets/tok/hit', 'pets/tok/miss',
    ], 'tok0 (TTL 0) and jwt0 (tokenCacheSize 0) have no series');
    assert.ok(series.every((s) => s.value === 0));
  });

  test('HTTP authorizer: a first request is a miss, the same token again a hit', async () => {
    const before = authzCalls;
    assert.equal((await call('/tok', 'alice')).status, 200);
    assert.deepEqual(await cache('pets', 'tok'), { hit: 0, miss: 1 });
    assert.equal((await call('/tok', 'alice')).status, 200);
    assert.deepEqual(await cache('pets', 'tok'), { hit: 1, miss: 1 });
    assert.equal(authzCalls - before, 1, 'one call for one miss');
    // Another stage has its own cache (a miss) but the same series; another API has its own series.
    assert.equal((await call('/tok', 'alice', 'beta')).status, 200);
    assert.deepEqual(await cache('pets', 'tok'), { hit: 1, miss: 2 });
    assert.equal((await request(gw.url, '/orders/prod/tok', { headers: { authorization: 'Bearer alice' } })).status, 200);
    assert.deepEqual(await cache('orders', 'tok'), { hit: 0, miss: 1 });
  });

  test('module authorizer: miss then hit', async () => {
    assert.equal((await call('/mod', 'bob')).status, 200);
    assert.equal((await call('/mod', 'bob')).status, 200);
    assert.deepEqual(await cache('pets', 'mod'), { hit: 1, miss: 1 });
  });

  test('"Unauthorized" is never cached: every request is a miss', async () => {
    const start = await cache('pets', 'tok');
    for (let i = 0; i < 2; i++) assert.equal((await call('/tok', 'carol-unauth')).status, 401);
    assert.deepEqual(await cache('pets', 'tok'), { hit: start.hit, miss: start.miss! + 2 });
  });

  test('concurrent requests for one identity: one miss (one call), the others hits', async () => {
    const start = await cache('pets', 'tok');
    const before = authzCalls;
    const all = await Promise.all(Array.from({ length: 5 }, () => call('/tok', 'dave-slow')));
    assert.deepEqual(all.map((r) => r.status), [200, 200, 200, 200, 200]);
    assert.equal(authzCalls - before, 1);
    assert.deepEqual(await cache('pets', 'tok'), { hit: start.hit! + 4, miss: start.miss! + 1 });
  });

  test('TTL 0 counts nothing; request data never becomes a label', async () => {
    for (let i = 0; i < 2; i++) assert.equal((await call('/tok0', 'erin')).status, 200);
    await call('/nope', 'x');
    const series = (await scrape()).filter((s) => s.name === CACHE);
    assert.equal(series.length, 10, 'still the deployed (API, authorizer) pairs only');
    assert.ok(!series.some((s) => s.labels.authorizer === 'tok0'));
  });
});

describe('JWT authorizer: verified-token cache and JWKS refreshes', () => {
  test('a token is a miss (verified, the JWKS fetched: ok), then a hit', async () => {
    assert.deepEqual(await jwks('jwt', ISS), { ok: 0, error: 0 }, 'present at 0 from the deploy');
    const token = await sign(k1);
    assert.equal((await call('/jwt', token)).status, 200);
    assert.deepEqual(await cache('pets', 'jwt'), { hit: 0, miss: 1 });
    assert.deepEqual(await jwks('jwt', ISS), { ok: 1, error: 0 });
    assert.equal((await call('/jwt', token)).status, 200);
    assert.deepEqual(await cache('pets', 'jwt'), { hit: 1, miss: 1 });
    assert.deepEqual(await jwks('jwt', ISS), { ok: 1, error: 0 }, 'the key set is cached');
  });

  test('tokenCacheSize 0: no cache series, but its JWKS fetch is counted', async () => {
    const token = await sign(k1);
    assert.equal((await call('/jwt0', token)).status, 200);
    assert.equal((await call('/jwt0', token)).status, 200);
    const s = await scrape();
    assert.equal(value(s, CACHE, { authorizer: 'jwt0', result: 'miss' }), undefined);
    assert.equal(value(s, JWKS, { authorizer: 'jwt0', issuer: ISS, result: 'ok' }), 1);
  });

  test('the JWKS endpoint answering 503: the refetch for an unknown kid is counted as an error', async () => {
    jwksState.down = true;
    try {
      const hits = jwksState.hits;
      const res = await call('/jwt', await sign(k2));
      assert.equal(res.status, 500, 'the provider is failing: a 5xx, not a 401');
      assert.equal(jwksState.hits - hits, 1);
      assert.deepEqual(await jwks('jwt', ISS), { ok: 1, error: 1 });
    } finally {
      jwksState.down = false;
    }
  });

  test('a JWKS endpoint that refuses connections: error, no ok', async () => {
    const res = await call('/dead', await sign(k1, { iss: DEAD_ISS }));
    assert.equal(res.status, 500);
    assert.deepEqual(await jwks('dead', DEAD_ISS), { ok: 0, error: 1 });
  });
});

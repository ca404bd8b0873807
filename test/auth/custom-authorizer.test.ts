// Custom (Lambda-style) authorizers through a running gateway, against a real HTTP authorizer server:
// AWS's events, outcomes and messages, the result cache (TTL on a fake clock, per-request method ARN,
// errors never cached), identity sources, validation regex, context to logs and upstream headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createFakeClock } from '../../src/core/clock.ts';
import http2 from 'node:http';
import { ADMIN_TOKEN, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const API_ID = 'abcde12345';
const ARN = `arn:aws:execute-api:us-east-1:123456789012:${API_ID}`;
const ANY_API = 'arn:aws:execute-api:*:*:*/*';

interface AuthEvent {
  type: string;
  authorizationToken?: string;
  methodArn: string;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string> | null;
  multiValueQueryStringParameters?: Record<string, string[]> | null;
  multiValueHeaders?: Record<string, string[]>;
  stageVariables?: Record<string, string>;
  requestContext?: { identity: { sourceIp: string }; stage: string };
}

const events: AuthEvent[] = [];
/** The API key value the 'with-key' token's authorizer answer hands to the API-key stage (created in the test). */
let usageKey = '';
const pendingSlow = new Set<http.ServerResponse>();
let authz: Awaited<ReturnType<typeof startServer>>;
let echo: Awaited<ReturnType<typeof startServer>>;
let gw: TestGateway;
const clock = createFakeClock(Date.now());

const policy = (effect: string, resource: string | string[]) => ({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: resource }] });

function answer(ev: AuthEvent): [number, unknown] | 'hang' {
  const token = ev.type === 'TOKEN' ? (ev.authorizationToken ?? '').replace(/^Bearer /, '') : '';
  if (ev.type === 'REQUEST') {
    const tenant = ev.headers?.['x-tenant'];
    // The answer depends on the stage: the beta stage is closed to everyone (the cache must not replay prod's answer there).
    const open = tenant === 'good' && ev.requestContext?.stage !== 'beta';
    return [200, { isAuthorized: open, context: { tenant: tenant ?? '', key: ev.queryStringParameters?.key ?? '' } }];
  }
  switch (token) {
    case 'allow-all': return [200, { principalId: 'user-1', policyDocument: policy('Allow', `${ARN}/prod/*/*`), context: { tenant: 't1', n: 3, ok: true }, usageIdentifierKey: 'key-value-1' }];
    case 'allow-first': return [200, { principalId: 'user-2', policyDocument: policy('Allow', ev.methodArn) }];
    case 'with-key': return [200, { principalId: 'user-5', policyDocument: policy('Allow', ANY_API), usageIdentifierKey: usageKey }];
    case 'bad-key': return [200, { principalId: 'user-6', policyDocument: policy('Allow', ANY_API), usageIdentifierKey: `pck_${'A'.repeat(38)}` }];
    case 'ip-bound': return [200, { principalId: 'user-8', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${ARN}/*`, Condition: { IpAddress: { 'aws:SourceIp': '127.0.0.1/32' } } }] } }];
    case 'no-key': return [200, { principalId: 'user-7', policyDocument: policy('Allow', ANY_API) }];
    case 'deny': return [200, { principalId: 'user-3', policyDocument: policy('Deny', `${ARN}/*`) }];
    case 'nomatch': return [200, { principalId: 'user-4', policyDocument: policy('Allow', `${ARN}/other/GET/x`) }];
    case 'unauth': return [401, { message: 'nope' }];
    case 'unauth-body': return [200, { errorMessage: 'Unauthorized' }];
    case 'bad-context': return [200, { principalId: 'u', policyDocument: policy('Allow', '*'), context: { nested: { a: 1 } } }];
    case 'no-principal': return [200, { policyDocument: policy('Allow', '*') }];
    case 'bad-policy': return [200, { principalId: 'u', policyDocument: { Statement: 'x' } }];
    case 'error': return [500, { errorMessage: 'boom' }];
    case 'slow': return 'hang';
    default: return [200, 'not json at all'];
  }
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return request(gw.url, `/prod${path}`, { method, headers });
}
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

before(async () => {
  authz = await startServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const ev = JSON.parse(Buffer.concat(chunks).toString()) as AuthEvent;
      events.push(ev);
      const a = answer(ev);
      if (a === 'hang') return void pendingSlow.add(res);
      res.writeHead(a[0], { 'content-type': 'application/json' }).end(typeof a[1] === 'string' ? a[1] : JSON.stringify(a[1]));
    });
  });
  echo = await startServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers })));
  const proxy = { type: 'http_proxy', url: `${echo.url}/` };
  gw = await startTestGateway(
    {
      settings: { accessLog: { format: '$context.requestId $context.resourcePath $context.status $context.authorizer.principalId $context.authorizer.tenant' } },
      authorizers: {
        tok: { type: 'token', url: `${authz.url}/authorize`, validationRegex: '^Bearer [a-z-]+$', timeoutMs: 300, contextHeaders: { 'X-Tenant-Id': 'tenant', 'X-Principal': 'principalId' } },
        tok0: { type: 'token', url: `${authz.url}/authorize`, resultTtlSeconds: 0, timeoutMs: 300 },
        req: { type: 'request', url: `${authz.url}/authorize`, identitySources: ['header.X-Tenant', 'query.key'], simpleResponses: true, contextHeaders: { 'X-Tenant-Id': 'tenant' } },
        ctx: { type: 'request', url: `${authz.url}/authorize`, identitySources: ['header.X-Tenant', 'context.identity.sourceIp', 'stageVariables.tier'], simpleResponses: true },
      },
      usagePlans: [{ name: 'gold', apiStages: [{ api: 'keyed', stage: 'prod' }] }],
      apis: [{
        name: 'keyed',
        basePath: '/keyed',
        apiKeySource: 'AUTHORIZER',
        stages: { prod: {} },
        routes: [{ method: 'GET', path: '/items', apiKeyRequired: true, auth: { authorizer: 'tok' }, integration: proxy }],
      }, {
        name: 'pets',
        id: API_ID,
        stages: { prod: { variables: { tier: 'gold' } }, beta: {} },
        routes: [
          { method: 'GET', path: '/pets', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'GET', path: '/pets/{id}', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'POST', path: '/orders', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'GET', path: '/nocache', auth: { authorizer: 'tok0' }, integration: proxy },
          { method: 'GET', path: '/simple', auth: { authorizer: 'req' }, integration: proxy },
          { method: 'GET', path: '/ctx', auth: { authorizer: 'ctx' }, integration: proxy },
        ],
      }],
    },
    { clock },
  );
});

after(async () => {
  for (const r of pendingSlow) r.destroy();
  await gw?.close();
  await Promise.all([authz?.close(), echo?.close()]);
});

const callsFor = (token: string) => events.filter((e) => e.authorizationToken === `Bearer ${token}` || e.authorizationToken === token).length;

describe('TOKEN authorizer outcomes', () => {
  test('Allow: proceeds; AWS\'s TOKEN event; context and principalId reach the upstream and the access log', async () => {
    const res = await get('/pets/42', { ...bearer('allow-all'), 'x-principal': 'admin', 'x-tenant-id': 'evil' });
    assert.equal(res.status, 200, res.body);
    const h = JSON.parse(res.body).headers;
    assert.equal(h['x-principal'], 'user-1');
    assert.equal(h['x-tenant-id'], 't1');
    const ev = events.find((e) => e.authorizationToken === 'Bearer allow-all')!;
    assert.deepEqual(ev, { type: 'TOKEN', authorizationToken: 'Bearer allow-all', methodArn: `${ARN}/prod/GET/pets/42` });
    assert.ok(gw.logLines.some((l) => l.endsWith(' /pets/{id} 200 user-1 t1')), gw.logLines.join('\n'));
  });

  test('explicit Deny: 403 with the explicit-deny message; no matching statement: 403 without it', async () => {
    let res = await get('/pets', bearer('deny'));
    assert.equal(res.status, 403);
    assert.equal(res.body, '{"message":"User is not authorized to access this resource with an explicit deny"}');
    assert.equal(res.headers['x-amzn-errortype'], 'AccessDeniedException');
    res = await get('/pets', bearer('nomatch'));
    assert.equal(res.status, 403);
    assert.equal(res.body, '{"message":"User is not authorized to access this resource"}');
  });

  test('"Unauthorized" (HTTP 401 or Lambda\'s error shape): 401 Unauthorized', async () => {
    for (const t of ['unauth', 'unauth-body']) {
      const res = await get('/pets', bearer(t));
      assert.equal(res.status, 401, t);
      assert.equal(res.body, '{"message":"Unauthorized"}');
    }
  });

  for (const t of ['bad-context', 'no-principal', 'bad-policy', 'error', 'garbage', 'slow']) {
    test(`${t}: 500 AUTHORIZER_CONFIGURATION_ERROR with {"message":null}, not cached`, async () => {
      const before = callsFor(t);
      for (let i = 0; i < 2; i++) {
        const res = await get('/pets', bearer(t));
        assert.equal(res.status, 500);
        assert.equal(res.body, '{"message":null}');
        assert.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException');
      }
      assert.equal(callsFor(t) - before, 2, 'each request called the authorizer again');
    });
  }

  test('missing token or one failing validationRegex: 401 without calling the authorizer', async () => {
    const before = events.length;
    assert.equal((await get('/pets')).status, 401);
    assert.equal((await get('/pets', { authorization: 'Bearer NOT-OK!' })).status, 401);
    assert.equal((await get('/pets', { authorization: '' })).status, 401);
    assert.equal(events.length, before);
  });
});

describe('result cache', () => {
  test('a cached policy is evaluated against each request\'s own method ARN', async () => {
    const before = callsFor('allow-first');
    assert.equal((await get('/pets', bearer('allow-first'))).status, 200);
    assert.equal((await get('/pets', bearer('allow-first'))).status, 200);
    const other = await get('/pets/7', bearer('allow-first'));
    assert.equal(other.status, 403, 'the policy for GET /pets does not grant GET /pets/7');
    assert.equal(other.body, '{"message":"User is not authorized to access this resource"}');
    assert.equal((await get('/orders', bearer('allow-first'), 'POST')).status, 403);
    assert.equal(callsFor('allow-first') - before, 1, 'one authorizer call, three cache hits');
  });

  test('a cached policy with conditions is evaluated again for each request (here: a different source address)', async () => {
    const from = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(gw.url);
        http2.get({ host: u.hostname, port: u.port, path: '/prod/pets', localAddress, headers: bearer('ip-bound'), agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    const before = callsFor('ip-bound');
    assert.equal(await from('127.0.0.1'), 200);
    assert.equal(await from('127.0.0.2'), 403, 'the cached answer is not replayed as a decision');
    assert.equal(await from('127.0.0.1'), 200);
    assert.equal(callsFor('ip-bound') - before, 1, 'one authorizer call');
  });

  test('the TTL (300 s default) is honoured on the injected clock; TTL 0 calls every time', async () => {
    await get('/pets', bearer('allow-all'));
    const before = callsFor('allow-all');
    clock.advance(299_000);
    assert.equal((await get('/pets', bearer('allow-all'))).status, 200);
    assert.equal(callsFor('allow-all'), before);
    clock.advance(1_000);
    assert.equal((await get('/pets', bearer('allow-all'))).status, 200);
    assert.equal(callsFor('allow-all'), before + 1);
    const n0 = callsFor('allow-all');
    await get('/nocache', { authorization: 'allow-all' });
    await get('/nocache', { authorization: 'allow-all' });
    assert.equal(callsFor('allow-all') - n0, 2);
  });

  test('concurrent misses for one token share a single call', async () => {
    clock.advance(600_000);
    const before = callsFor('allow-all');
    const all = await Promise.all(Array.from({ length: 10 }, () => get('/pets', bearer('allow-all'))));
    assert.deepEqual(all.map((r) => r.status), Array(10).fill(200));
    assert.equal(callsFor('allow-all') - before, 1);
  });
});

describe('REQUEST authorizer with simple responses', () => {
  test('identity sources form the event and the cache key; isAuthorized false is 403 Forbidden', async () => {
    const ok = await get('/simple?key=k1', { 'x-tenant': 'good' });
    assert.equal(ok.status, 200, ok.body);
    assert.equal(JSON.parse(ok.body).headers['x-tenant-id'], 'good');
    const ev = events.filter((e) => e.type === 'REQUEST').at(-1)!;
    assert.equal(ev.methodArn, `${ARN}/prod/GET/simple`);
    assert.equal(ev.headers?.['x-tenant'], 'good');
    assert.deepEqual(ev.queryStringParameters, { key: 'k1' });
    assert.deepEqual(ev.multiValueQueryStringParameters, { key: ['k1'] });
    assert.deepEqual(ev.multiValueHeaders?.['x-tenant'], ['good']);
    assert.equal(ev.requestContext?.stage, 'prod');
    assert.equal(ev.requestContext?.identity.sourceIp, '127.0.0.1');
    const bad = await get('/simple?key=k1', { 'x-tenant': 'bad' });
    assert.equal(bad.status, 403);
    assert.equal(bad.body, '{"message":"Forbidden"}');
  });

  test('a missing identity source (with caching on) is 401 without a call', async () => {
    const before = events.length;
    assert.equal((await get('/simple', { 'x-tenant': 'good' })).status, 401);
    assert.equal((await get('/simple?key=k', {})).status, 401);
    assert.equal(events.length, before);
  });
});

describe('identity sources and cache scope', () => {
  const requestEvents = () => events.filter((e) => e.type === 'REQUEST').length;

  test('a different value of any identity source misses the cache; the same values hit it', async () => {
    await get('/simple?key=q1', { 'x-tenant': 'good' });
    const before = requestEvents();
    assert.equal((await get('/simple?key=q1', { 'x-tenant': 'good' })).status, 200);
    assert.equal(requestEvents(), before, 'same header and query value: cached');
    assert.equal((await get('/simple?key=q2', { 'x-tenant': 'good' })).status, 200);
    assert.equal(requestEvents(), before + 1, 'another query value: a new call');
  });

  test('context.X and stageVariables.X sources: the caller\'s address is part of the key; a stage without the variable is 401 uncalled', async () => {
    const from = (localAddress: string) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(gw.url);
        http2.get({ host: u.hostname, port: u.port, path: '/prod/ctx', localAddress, headers: { 'x-tenant': 'good' }, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        }).on('error', reject);
      });
    assert.equal(await from('127.0.0.1'), 200);
    const before = requestEvents();
    assert.equal(await from('127.0.0.1'), 200);
    assert.equal(requestEvents(), before, 'same source ip: cached');
    assert.equal(await from('127.0.0.2'), 200);
    assert.equal(requestEvents(), before + 1, 'another source ip: a new call');
    const ev = events.filter((e) => e.type === 'REQUEST').at(-1)!;
    assert.equal(ev.requestContext?.identity.sourceIp, '127.0.0.2');
    assert.equal(ev.stageVariables?.tier, 'gold');
    const beta = await request(gw.url, '/beta/ctx', { headers: { 'x-tenant': 'good' } });
    assert.equal(beta.status, 401, 'the beta stage has no tier variable');
    assert.equal(requestEvents(), before + 1);
  });

  test('the cache belongs to one stage: an answer cached on prod is not replayed on beta', async () => {
    assert.equal((await get('/simple?key=st', { 'x-tenant': 'good' })).status, 200);
    const before = requestEvents();
    const beta = await request(gw.url, '/beta/simple?key=st', { headers: { 'x-tenant': 'good' } });
    assert.equal(beta.status, 403, 'the authorizer closes beta; a replayed prod answer would have allowed it');
    assert.equal(requestEvents(), before + 1);
  });
});

describe('usageIdentifierKey feeds the API-key stage (apiKeySource AUTHORIZER)', () => {
  test('the authorizer\'s key selects the usage plan; a bad, missing or header-only key is 403 Forbidden', async () => {
    const created = await request(gw.adminUrl, '/v1/api-keys', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'from-authorizer', plans: ['gold'] }),
    });
    assert.equal(created.status, 201, created.body);
    usageKey = (JSON.parse(created.body) as { value: string }).value;
    const call = (token: string, headers: Record<string, string> = {}) => request(gw.url, '/keyed/prod/items', { headers: { authorization: `Bearer ${token}`, ...headers } });
    assert.equal((await call('with-key')).status, 200);
    for (const [token, headers] of [['bad-key', {}], ['no-key', { 'x-api-key': usageKey }]] as const) {
      const res = await call(token, headers);
      assert.equal(res.status, 403, token);
      assert.equal(res.body, '{"message":"Forbidden"}');
      assert.equal(res.headers['x-amzn-errortype'], 'ForbiddenException');
    }
  });
});

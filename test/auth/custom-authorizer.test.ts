// Custom (Lambda-style) authorizers through a running gateway, against a real HTTP authorizer server:
// AWS's events, outcomes and messages, the result cache (TTL on a fake clock, per-request method ARN,
// errors never cached), identity sources, validation regex, context to logs and upstream headers.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createFakeClock } from '../../src/core/clock.ts';
import { request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const API_ID = 'abcde12345';
const ARN = `arn:aws:execute-api:us-east-1:123456789012:${API_ID}`;

interface AuthEvent {
  type: string;
  authorizationToken?: string;
  methodArn: string;
  headers?: Record<string, string>;
  queryStringParameters?: Record<string, string> | null;
  stageVariables?: Record<string, string>;
  requestContext?: { identity: { sourceIp: string }; stage: string };
}

const events: AuthEvent[] = [];
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
    return [200, { isAuthorized: tenant === 'good', context: { tenant: tenant ?? '', key: ev.queryStringParameters?.key ?? '' } }];
  }
  switch (token) {
    case 'allow-all': return [200, { principalId: 'user-1', policyDocument: policy('Allow', `${ARN}/prod/*/*`), context: { tenant: 't1', n: 3, ok: true }, usageIdentifierKey: 'key-value-1' }];
    case 'allow-first': return [200, { principalId: 'user-2', policyDocument: policy('Allow', ev.methodArn) }];
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
      },
      apis: [{
        name: 'pets',
        id: API_ID,
        stages: { prod: {} },
        routes: [
          { method: 'GET', path: '/pets', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'GET', path: '/pets/{id}', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'POST', path: '/orders', auth: { authorizer: 'tok' }, integration: proxy },
          { method: 'GET', path: '/nocache', auth: { authorizer: 'tok0' }, integration: proxy },
          { method: 'GET', path: '/simple', auth: { authorizer: 'req' }, integration: proxy },
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

// Resource policies through a running gateway: an IP-restricted API (direct peer and behind a trusted proxy),
// a time window on a fake clock, deny-by-path with the shorthand, auth: none needing an explicit Allow,
// AWS's denial bodies and headers, the pre-check before a custom authorizer, and the 414 for long method ARNs.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createFakeClock } from '../../src/core/clock.ts';
import { request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

const ACCOUNT = '123456789012';
const arnOf = (apiId: string, rest: string) => `arn:aws:execute-api:us-east-1:${ACCOUNT}:${apiId}/${rest}`;
const mock = { type: 'mock', body: { ok: true } };
const routes = [
  { method: 'GET', path: '/pets', integration: mock },
  { method: 'GET', path: '/pets/{id}', integration: mock },
  { method: 'ANY', path: '/admin/{proxy+}', integration: mock },
  { method: 'GET', path: '/', integration: mock },
];
const clock = createFakeClock(Date.UTC(2026, 5, 1, 12, 0, 0));
const authorizerCalls: string[] = [];

let gw: TestGateway;
let authz: Awaited<ReturnType<typeof startServer>>;

function body(r: { body: string }): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

before(async () => {
  authz = await startServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c));
    req.on('end', () => {
      const ev = JSON.parse(data) as { methodArn: string };
      authorizerCalls.push(ev.methodArn);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ principalId: 'u1', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } }));
    });
  });
  gw = await startTestGateway({
    settings: { trustedProxies: ['127.0.0.1'] },
    authorizers: { lambda: { type: 'token', url: `${authz.url}/authorize`, resultTtlSeconds: 0 } },
    apis: [
      {
        // Only 10.0.0.0/8 and 127.0.0.0/8 may call; behind the trusted proxy (127.0.0.1) X-Forwarded-For decides.
        name: 'ip', id: 'ipapi00001', basePath: '/ip', stages: { prod: {} }, routes,
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [{ Sid: 'OfficeOnly', Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '127.0.0.0/8'] } } }],
        },
      },
      {
        name: 'time', id: 'timeapi001', basePath: '/time', stages: { prod: {} }, routes,
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [{
            Sid: 'BusinessWindow', Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*',
            Condition: { DateGreaterThan: { 'aws:CurrentTime': '2026-06-01T09:00:00Z' }, DateLessThan: { 'aws:CurrentTime': '2026-06-01T17:00:00Z' } },
          }],
        },
      },
      {
        name: 'paths', id: 'pathapi001', basePath: '/paths', stages: { prod: {}, beta: {} }, routes,
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/*' },
            { Sid: 'NoAdmin', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/*/admin/*' },
            { Sid: 'NoPet7', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: arnOf('pathapi001', '*/GET/pets/7') },
          ],
        },
      },
      {
        // A custom authorizer with a resource policy: the explicit-deny pre-check runs before the authorizer.
        name: 'lambda', id: 'lambdaapi1', basePath: '/lambda', stages: { prod: {} },
        routes: routes.map((r) => ({ ...r, auth: { authorizer: 'lambda' } })),
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/*/admin/*' },
            { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*/*/pets/*', Condition: { StringEquals: { 'aws:UserAgent': 'badbot' } } },
          ],
        },
      },
      {
        // A principal of the form {"AWS": ...} never matches callers that did not sign with IAM.
        name: 'awsprincipal', id: 'awsprinc01', basePath: '/awsp', stages: { prod: {} }, routes,
        resourcePolicy: {
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'execute-api:Invoke', Resource: 'execute-api:/*' }],
        },
      },
    ],
  }, { clock });
});

after(async () => {
  await gw.close();
  await authz.close();
});

describe('IP-restricted API', () => {
  test('the immediate peer (127.0.0.1) is in the allowed range', async () => {
    const r = await request(gw.url, '/ip/prod/pets');
    assert.equal(r.status, 200, r.body);
  });

  test('behind a trusted proxy, X-Forwarded-For names the client: an address outside the ranges is refused with AWS\'s body', async () => {
    const r = await request(gw.url, '/ip/prod/pets/42', { headers: { 'x-forwarded-for': '203.0.113.9' } });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.deepEqual(body(r), {
      Message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arnOf('ipapi00001', 'prod/GET/pets/42')}`,
    });
  });

  test('a forwarded address inside the range is allowed', async () => {
    const r = await request(gw.url, '/ip/prod/pets', { headers: { 'x-forwarded-for': '203.0.113.9, 10.1.2.3' } });
    assert.equal(r.status, 200, r.body);
  });
});

describe('time-window policy (fake clock)', () => {
  test('inside the window: allowed; outside: implicit deny; the clock decides, not the wall time', async () => {
    clock.set(Date.UTC(2026, 5, 1, 12, 0, 0));
    assert.equal((await request(gw.url, '/time/prod/pets')).status, 200);
    clock.set(Date.UTC(2026, 5, 1, 18, 0, 0));
    const late = await request(gw.url, '/time/prod/pets');
    assert.equal(late.status, 403);
    assert.match(String(body(late).Message), /^User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:timeapi001\/prod\/GET\/pets$/);
    clock.set(Date.UTC(2026, 5, 1, 8, 59, 59));
    assert.equal((await request(gw.url, '/time/prod/pets')).status, 403);
    clock.set(Date.UTC(2026, 5, 1, 16, 59, 59));
    assert.equal((await request(gw.url, '/time/prod/pets')).status, 200);
    clock.set(Date.UTC(2026, 5, 1, 12, 0, 0));
  });
});

describe('deny by path', () => {
  test('allowed paths pass; the root resource has its own ARN', async () => {
    assert.equal((await request(gw.url, '/paths/prod/pets/1')).status, 200);
    assert.equal((await request(gw.url, '/paths/prod/')).status, 200);
  });

  test('an explicit Deny on a path answers with the explicit-deny wording and the real request path', async () => {
    const r = await request(gw.url, '/paths/prod/admin/users/9', { method: 'DELETE' });
    assert.equal(r.status, 403);
    assert.equal(r.headers['x-amzn-errortype'], 'AccessDeniedException');
    assert.deepEqual(body(r), {
      Message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arnOf('pathapi001', 'prod/DELETE/admin/users/9')} with an explicit deny`,
    });
  });

  test('a Deny naming one parameter value hits only that value (the ARN holds the request path, not the template)', async () => {
    assert.equal((await request(gw.url, '/paths/prod/pets/7')).status, 403);
    assert.equal((await request(gw.url, '/paths/prod/pets/8')).status, 200);
  });

  test('a stage the Allow does not cover is an implicit deny (auth: none needs an explicit Allow)', async () => {
    const r = await request(gw.url, '/paths/beta/pets');
    assert.equal(r.status, 403);
    assert.equal(body(r).Message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arnOf('pathapi001', 'beta/GET/pets')}`);
  });

  test('a method ARN over 1600 bytes is answered 414', async () => {
    const r = await request(gw.url, `/paths/prod/pets/${'a'.repeat(1600)}`);
    assert.equal(r.status, 414);
  });
});

describe('custom authorizer with a resource policy', () => {
  test('an explicit Deny refuses before the authorizer is called, with the anonymous explicit-deny message', async () => {
    authorizerCalls.length = 0;
    const r = await request(gw.url, '/lambda/prod/admin/x', { headers: { authorization: 'token-1' } });
    assert.equal(r.status, 403);
    assert.deepEqual(body(r), {
      Message: `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arnOf('lambdaapi1', 'prod/GET/admin/x')} with an explicit deny`,
    });
    assert.deepEqual(authorizerCalls, []);
  });

  test('a condition on a request key (aws:UserAgent) is checked in the pre-check too', async () => {
    authorizerCalls.length = 0;
    const r = await request(gw.url, '/lambda/prod/pets/1', { headers: { authorization: 'token-1', 'user-agent': 'badbot' } });
    assert.equal(r.status, 403);
    assert.deepEqual(authorizerCalls, []);
  });

  test('no Deny: the authorizer runs and its Allow with a resource-policy Neither is an Allow (Table A)', async () => {
    authorizerCalls.length = 0;
    const r = await request(gw.url, '/lambda/prod/pets/1', { headers: { authorization: 'token-1' } });
    assert.equal(r.status, 200, r.body);
    assert.deepEqual(authorizerCalls, [arnOf('lambdaapi1', 'prod/GET/pets/1')]);
  });
});

test('a resource policy Allow for an AWS principal does not admit anonymous callers', async () => {
  const r = await request(gw.url, '/awsp/prod/pets');
  assert.equal(r.status, 403);
  assert.equal(body(r).Message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${arnOf('awsprinc01', 'prod/GET/pets')}`);
});

test('the denial reason reaches the access log, never the client', async () => {
  await request(gw.url, '/paths/prod/admin/a');
  const line = [...gw.logLines].reverse().find((l) => l.includes('/paths/prod/admin/a'));
  assert.ok(line, 'access-log line written');
  assert.match(line!, /ACCESS_DENIED|AccessDenied|403/);
});

// Custom authorizers as local JavaScript modules, through a running gateway: loaded only from the operator's
// PORTCULLIS_AUTHORIZER_MODULES_DIR, called with AWS's event, answers read like an HTTP authorizer's (policy,
// "Unauthorized", malformed, timeout), results cached like any custom authorizer's.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ADMIN_TOKEN, TEST_MASTER_KEY, request, startServer, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { createModuleInvoker } from '../../src/gateway/stages/custom-auth/invoke-module.ts';

const CALLS = `__portcullisModuleAuthorizerCalls_${process.pid}`;
const calls = (): Array<{ type: string; authorizationToken: string; methodArn: string }> =>
  ((globalThis as Record<string, unknown>)[CALLS] ??= []) as never;

const MODULES: Record<string, string> = {
  'allow.mjs': `export async function handler(event) {
    (globalThis[${JSON.stringify(CALLS)}] ??= []).push(event);
    const arn = event.methodArn.split('/').slice(0, 2).join('/') + '/*';
    return { principalId: 'mod-user', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: event.authorizationToken === 'Bearer deny' ? 'Deny' : 'Allow', Action: 'execute-api:Invoke', Resource: arn }] }, context: { source: 'module', n: 1 } };
  }`,
  'default.cjs': `module.exports = (event) => { if (event.authorizationToken !== 'Bearer ok') throw new Error('Unauthorized'); return { principalId: 'cjs', policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] } }; };`,
  'broken.mjs': `export const handler = () => ({ principalId: 'x' });`,
  'throws.mjs': `export const handler = () => { throw new Error('database down'); };`,
  'slow.mjs': `export const handler = () => new Promise(() => {});`,
  'noexport.mjs': `export const value = 1;`,
};

let dir: string;
let outside: string;
let echo: Awaited<ReturnType<typeof startServer>>;
let gw: TestGateway;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-authz-modules-'));
  outside = await mkdtemp(join(tmpdir(), 'portcullis-authz-outside-'));
  for (const [name, text] of Object.entries(MODULES)) await writeFile(join(dir, name), text);
  await writeFile(join(outside, 'evil.mjs'), MODULES['allow.mjs']);
  await symlink(join(outside, 'evil.mjs'), join(dir, 'escape.mjs'));
  echo = await startServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ headers: req.headers })));
  const proxy = { type: 'http_proxy', url: `${echo.url}/` };
  const authorizers: Record<string, unknown> = {};
  const routes: unknown[] = [];
  for (const name of ['allow.mjs', 'default.cjs', 'broken.mjs', 'throws.mjs', 'slow.mjs', 'noexport.mjs', 'missing.mjs', 'escape.mjs']) {
    const id = name.replace(/\W/g, '_');
    authorizers[id] = { type: 'token', module: name, timeoutMs: 200, contextHeaders: { 'X-Source': 'source', 'X-Principal': 'principalId' } };
    routes.push({ method: 'GET', path: `/${id}`, auth: { authorizer: id }, integration: proxy });
  }
  gw = await startTestGateway(
    { settings: { accessLog: { format: '$context.requestId $context.resourcePath $context.status $context.authorizer.principalId $context.authorizer.source' } }, authorizers, apis: [{ name: 'pets', stages: { prod: {} }, routes }] },
    { env: { PORTCULLIS_ADMIN_TOKEN: ADMIN_TOKEN, PORTCULLIS_LOG_LEVEL: 'silent', PORTCULLIS_MASTER_KEY: TEST_MASTER_KEY, PORTCULLIS_AUTHORIZER_MODULES_DIR: dir } },
  );
});

after(async () => {
  await gw?.close();
  await echo?.close();
  await rm(dir, { recursive: true, force: true });
  await rm(outside, { recursive: true, force: true });
});

const get = (path: string, token?: string) => request(gw.url, `/prod${path}`, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

describe('module authorizers', () => {
  test('an Allow from the handler proceeds with AWS\'s TOKEN event; context reaches the upstream and the log; the answer is cached', async () => {
    const res = await get('/allow_mjs', 'tok-1');
    assert.equal(res.status, 200, res.body);
    const headers = JSON.parse(res.body).headers;
    assert.equal(headers['x-source'], 'module');
    assert.equal(headers['x-principal'], 'mod-user');
    assert.equal(calls().length, 1);
    assert.match(calls()[0].methodArn, /^arn:aws:execute-api:us-east-1:\d{12}:[a-z0-9]{10}\/prod\/GET\/allow_mjs$/);
    assert.deepEqual(Object.keys(calls()[0]).sort(), ['authorizationToken', 'methodArn', 'type']);
    assert.equal((await get('/allow_mjs', 'tok-1')).status, 200);
    assert.equal(calls().length, 1, 'the second request was answered from the result cache');
    assert.ok(gw.logLines.some((l) => l.endsWith(' /allow_mjs 200 mod-user module')), gw.logLines.join('\n'));
  });

  test('a Deny from the handler is 403 with the explicit-deny message', async () => {
    const res = await get('/allow_mjs', 'deny');
    assert.equal(res.status, 403);
    assert.equal(res.body, '{"message":"User is not authorized to access this resource with an explicit deny"}');
  });

  test('a default-exported CommonJS handler; throwing "Unauthorized" is 401', async () => {
    assert.equal((await get('/default_cjs', 'ok')).status, 200);
    const res = await get('/default_cjs', 'nope');
    assert.equal(res.status, 401);
    assert.equal(res.body, '{"message":"Unauthorized"}');
  });

  for (const id of ['broken_mjs', 'throws_mjs', 'slow_mjs', 'noexport_mjs', 'missing_mjs', 'escape_mjs']) {
    test(`${id}: 500 AUTHORIZER_CONFIGURATION_ERROR with {"message":null}`, async () => {
      const res = await get(`/${id}`, 'tok');
      assert.equal(res.status, 500);
      assert.equal(res.body, '{"message":null}');
      assert.equal(res.headers['x-amzn-errortype'], 'AuthorizerConfigurationException');
    });
  }

  test('a module outside the operator\'s directory (through a symbolic link) is never imported', () => {
    assert.ok(calls().every((e) => !e.methodArn.endsWith('/escape_mjs')));
  });

  test('without PORTCULLIS_AUTHORIZER_MODULES_DIR no module can run', async () => {
    const invoke = createModuleInvoker(undefined, 'allow.mjs');
    const answer = await invoke({ type: 'TOKEN', authorizationToken: 'x', methodArn: 'arn' }, 1000, false);
    assert.equal(answer.kind, 'error');
    assert.match((answer as { detail: string }).detail, /disabled on this node/);
  });
});

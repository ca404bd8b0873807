// Unit tests of the custom authorizer answer reader and of what an Allow leaves for later stages
// (usageIdentifierKey for the API-key stage, principalId and context in $context.authorizer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createFakeClock } from '../../../core/clock.ts';
import { DefinitionSchema } from '../../../config/schema.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import { readAnswer } from './invoke.ts';
import { customAuthStage } from './stage.ts';

const allow = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] };

test('answers: policy, simple, Unauthorized, and every malformed shape', () => {
  assert.equal(readAnswer({ principalId: 'p', policyDocument: allow }, false).kind, 'policy');
  assert.equal(readAnswer({ isAuthorized: true }, true).kind, 'simple');
  assert.equal(readAnswer('Unauthorized', false).kind, 'unauthorized');
  assert.equal(readAnswer({ errorMessage: 'Unauthorized' }, true).kind, 'unauthorized');
  for (const bad of [null, [], 'x', {}, { principalId: 'p' }, { principalId: '', policyDocument: allow }, { principalId: 'p', policyDocument: allow, context: { a: [1] } },
    { principalId: 'p', policyDocument: allow, context: { a: null } }, { principalId: 'p', policyDocument: allow, usageIdentifierKey: 5 }, { principalId: 'p', policyDocument: { Statement: [{ Effect: 'Maybe' }] } }]) {
    assert.equal(readAnswer(bad, false).kind, 'error', JSON.stringify(bad));
  }
  assert.equal(readAnswer({ isAuthorized: 'yes' }, true).kind, 'error');
  assert.equal(readAnswer({ principalId: 'p', policyDocument: allow }, true).kind, 'error', 'simple mode wants isAuthorized');
});

test('with a resource policy, an implicit deny is left to the authorize stage; without one it is refused here', async () => {
  const server = http.createServer((_q, s) => s.end(JSON.stringify({ principalId: 'p', policyDocument: { ...allow, Statement: [{ ...allow.Statement[0], Resource: 'arn:aws:execute-api:*:*:other/*' }] } })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    for (const withPolicy of [true, false]) {
      const def = DefinitionSchema.parse({
        authorizers: { t: { type: 'token', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` } },
        apis: [{
          name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth: { authorizer: 't' }, integration: { type: 'mock' } }],
          ...(withPolicy ? { resourcePolicy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: '*' }] } } : {}),
        }],
      });
      const api = def.apis[0];
      const fn = customAuthStage.create({ api, apiId: 'abcdefghij', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps: { clock: createFakeClock() } })!;
      const ctx = {
        req: { headers: { authorization: 'tok' } }, rawQuery: '', httpMethod: 'GET', resourcePath: '/x', pathParameters: {}, stageVariables: {},
        identity: { sourceIp: '127.0.0.1' }, requestTimeEpoch: Date.now(), authorizer: {}, extensions: {},
      } as unknown as RequestContext;
      const r = await fn(ctx);
      assert.equal(ctx.extensions.authorizerDecision, 'ImplicitDeny');
      assert.equal(r?.type, withPolicy ? undefined : 'ACCESS_DENIED');
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

test('an Allow sets principalId, context and usageIdentifierKey for the API-key stage', async () => {
  const server = http.createServer((_q, s) => s.end(JSON.stringify({ principalId: 'p-1', policyDocument: allow, context: { tier: 'gold', n: 2 }, usageIdentifierKey: 'key-123' })));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const def = DefinitionSchema.parse({
      authorizers: { t: { type: 'token', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` } },
      apis: [{ name: 'a', apiKeySource: 'AUTHORIZER', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth: { authorizer: 't' }, integration: { type: 'mock' } }] }],
    });
    const api = def.apis[0];
    const fn = customAuthStage.create({ api, apiId: 'abcdefghij', stageName: 'prod', stage: api.stages.prod, route: api.routes[0], definition: def, deps: { clock: createFakeClock() } })!;
    const ctx = {
      req: { headers: { authorization: 'tok' } }, rawQuery: '', httpMethod: 'GET', resourcePath: '/x', pathParameters: {}, stageVariables: {},
      identity: { sourceIp: '127.0.0.1' }, requestTimeEpoch: Date.now(), authorizer: {}, extensions: {},
    } as unknown as RequestContext;
    assert.equal(await fn(ctx), undefined);
    assert.deepEqual({ ...ctx.authorizer }, { tier: 'gold', n: 2, principalId: 'p-1' });
    assert.equal(ctx.extensions.usageIdentifierKey, 'key-123');
    assert.equal(ctx.extensions.authorizerDecision, 'Allow');
  } finally {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
});

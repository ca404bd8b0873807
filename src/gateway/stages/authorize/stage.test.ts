// Unit tests of the authorization stages on hand-made contexts: every row of AWS's outcome tables through
// the stage (IAM same account and cross-account, Lambda, Cognito/JWT, none), the pre-check, the condition
// keys offered to policies, and the method ARN.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionSchema, type Definition } from '../../../config/schema.ts';
import { parsePolicy, type CompiledPolicy, type Decision } from '../../../security/iam/index.ts';
import { fakeContext } from '../../../observe/test-support.ts';
import type { RequestContext } from '../../pipeline/context.ts';
import type { StageFn } from '../../pipeline/stage.ts';
import { setCallerIdentity, type IamCaller } from '../../pipeline/caller-identity.ts';
import { conditionKeysOf } from '../auth-common.ts';
import { authorizeStage, resourcePolicyStage, type AuthorizeDeps } from './stage.ts';
import { createConditionContextBuilder, API_KEY_ID_CONDITION_KEY } from './condition-context.ts';
import { createTrustedProxies } from '../../trusted-proxies.ts';

const API_ID = 'abcde12345';
const ACCOUNT = '123456789012';
const OTHER = '210987654321';
const ARN = `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/prod/GET/pets/42`;

function definition(resourcePolicy: unknown, auth: unknown = 'none', path = '/pets/{id}'): Definition {
  return DefinitionSchema.parse({
    authorizers: { lam: { type: 'token', url: 'http://127.0.0.1:1/a' }, jwt: { type: 'jwt', issuer: 'https://issuer.example.com', audiences: ['a'] } },
    apis: [{ name: 'pets', id: API_ID, stages: { prod: {} }, routes: [{ method: 'GET', path, auth, integration: { type: 'mock' } }], ...(resourcePolicy === undefined ? {} : { resourcePolicy }) }],
  });
}

function stageFn(factory: typeof authorizeStage, def: Definition, deps: AuthorizeDeps = {}): StageFn | null {
  const api = def.apis[0]!;
  return factory.create({ api, apiId: API_ID, stageName: 'prod', stage: api.stages.prod!, route: api.routes[0]!, definition: def, deps });
}

function ctxFor(path = '/prod/pets/42', params: Record<string, string> = { id: '42' }, headers: Record<string, string> = {}): RequestContext {
  const ctx = fakeContext({ url: path, headers });
  ctx.resourcePath = '/pets/{id}';
  ctx.pathParameters = params;
  return ctx;
}

const stmt = (Effect: string, extra: object = {}) => ({ Effect, Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', ...extra });
const rp = (...Statement: object[]) => ({ Version: '2012-10-17', Statement });
const RP = { allow: rp(stmt('Allow')), deny: rp(stmt('Deny')), neither: rp(stmt('Allow', { Resource: 'execute-api:/other/*' })) } as const;

function identityPolicy(effect: 'Allow' | 'Deny' | 'Neither'): CompiledPolicy[] {
  if (effect === 'Neither') return [];
  const r = parsePolicy({ Version: '2012-10-17', Statement: [{ Effect: effect, Action: 'execute-api:Invoke', Resource: '*' }] }, { kind: 'identity' });
  assert.ok(r.ok);
  return [r.policy];
}

const user = (account: string): IamCaller => ({ arn: `arn:aws:iam::${account}:user/alice`, accountId: account, type: 'User', username: 'alice', userid: 'AIDAEXAMPLE' });

// Table A (same account) and Table B (cross-account) of reference §6.1; 'none' = no resource policy.
const TABLE: Array<[identity: 'Allow' | 'Deny' | 'Neither', resource: keyof typeof RP, sameAccount: Decision, crossAccount: Decision]> = [
  ['Allow', 'allow', 'Allow', 'Allow'],
  ['Allow', 'neither', 'Allow', 'ImplicitDeny'],
  ['Allow', 'deny', 'ExplicitDeny', 'ExplicitDeny'],
  ['Neither', 'allow', 'Allow', 'ImplicitDeny'],
  ['Neither', 'neither', 'ImplicitDeny', 'ImplicitDeny'],
  ['Neither', 'deny', 'ExplicitDeny', 'ExplicitDeny'],
  ['Deny', 'allow', 'ExplicitDeny', 'ExplicitDeny'],
  ['Deny', 'neither', 'ExplicitDeny', 'ExplicitDeny'],
  ['Deny', 'deny', 'ExplicitDeny', 'ExplicitDeny'],
];

for (const [idEffect, res, same, cross] of TABLE) {
  for (const [account, expected] of [[ACCOUNT, same], [OTHER, cross]] as const) {
    test(`IAM: identity ${idEffect} + resource ${res}, ${account === ACCOUNT ? 'same account' : 'cross-account'} → ${expected}`, async () => {
      // A cross-account Allow in the resource policy has to name the caller (or Principal "*").
      const fn = stageFn(authorizeStage, definition(RP[res], 'iam'))!;
      const ctx = ctxFor();
      const caller = user(account);
      setCallerIdentity(ctx, { kind: 'iam', caller, policies: identityPolicy(idEffect) });
      const r = await fn(ctx);
      if (expected === 'Allow') return assert.equal(r, undefined);
      assert.equal(r?.type, 'ACCESS_DENIED');
      assert.equal(r?.messageKey, 'Message');
      assert.equal(r?.message, `User: ${caller.arn} is not authorized to perform: execute-api:Invoke on resource: ${ARN}${expected === 'ExplicitDeny' ? ' with an explicit deny' : ''}`);
    });
  }
}

test('IAM without a resource policy: the identity policies alone decide; cross-account is refused', async () => {
  const fn = stageFn(authorizeStage, definition(undefined, 'iam'))!;
  assert.ok(fn, 'auth: iam always gets the authorize stage');
  for (const [account, effect, ok] of [[ACCOUNT, 'Allow', true], [ACCOUNT, 'Neither', false], [OTHER, 'Allow', false]] as const) {
    const ctx = ctxFor();
    setCallerIdentity(ctx, { kind: 'iam', caller: user(account), policies: identityPolicy(effect) });
    assert.equal((await fn(ctx)) === undefined, ok, `${account} ${effect}`);
  }
});

test('IAM: a route reaching authorization without a caller is a bug (thrown, answered 5xx)', () => {
  const fn = stageFn(authorizeStage, definition(undefined, 'iam'))!;
  assert.throws(() => fn(ctxFor()), /without an authenticated caller/);
});

test('Lambda: the authorizer policy decision combines with the resource policy; its own texts for its denials', async () => {
  for (const [decision, res, ok, message] of [
    ['Allow', 'neither', true, undefined],
    ['Allow', 'deny', false, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`],
    ['ImplicitDeny', 'allow', true, undefined],
    ['ImplicitDeny', 'neither', false, 'User is not authorized to access this resource'],
    ['ExplicitDeny', 'allow', false, 'User is not authorized to access this resource with an explicit deny'],
  ] as const) {
    const fn = stageFn(authorizeStage, definition(RP[res], { authorizer: 'lam' }))!;
    const ctx = ctxFor();
    setCallerIdentity(ctx, { kind: 'lambda', decision });
    const r = await fn(ctx);
    assert.equal(r === undefined, ok, `${decision} + ${res}`);
    if (!ok) assert.equal(r?.message, message);
  }
});

test('Lambda: without an identity record the stage reads the custom authorizer\'s authorizerDecision', async () => {
  const fn = stageFn(authorizeStage, definition(RP.neither, { authorizer: 'lam' }))!;
  const ctx = ctxFor();
  ctx.extensions.authorizerDecision = 'Allow';
  assert.equal(await fn(ctx), undefined);
});

test('JWT/Cognito: a valid token is the identity Allow (Table A); a resource Deny still wins', async () => {
  assert.equal(await stageFn(authorizeStage, definition(RP.neither, { authorizer: 'jwt' }))!(ctxFor()), undefined);
  assert.equal((await stageFn(authorizeStage, definition(RP.deny, { authorizer: 'jwt' }))!(ctxFor()))?.type, 'ACCESS_DENIED');
});

test('auth: none needs an explicit Allow; without a resource policy the stage is not in the chain', async () => {
  assert.equal(stageFn(authorizeStage, definition(undefined)), null);
  assert.equal(await stageFn(authorizeStage, definition(RP.allow))!(ctxFor()), undefined);
  const r = await stageFn(authorizeStage, definition(RP.neither))!(ctxFor());
  assert.deepEqual([r?.type, r?.messageKey, r?.message], ['ACCESS_DENIED', 'Message', `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN}`]);
});

test('the pre-check applies to custom-authorizer routes only and refuses only explicit denies', async () => {
  assert.equal(stageFn(resourcePolicyStage, definition(RP.deny)), null);
  assert.equal(stageFn(resourcePolicyStage, definition(RP.deny, 'iam')), null);
  assert.equal(stageFn(resourcePolicyStage, definition(undefined, { authorizer: 'lam' })), null);
  assert.equal(await stageFn(resourcePolicyStage, definition(RP.neither, { authorizer: 'lam' }))!(ctxFor()), undefined);
  const r = await stageFn(resourcePolicyStage, definition(RP.deny, { authorizer: 'lam' }))!(ctxFor());
  assert.equal(r?.message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`);
});

test('method ARNs: the real path for templates, the root resource, greedy parameters keep their slashes, the actual method for ANY', async () => {
  const seen: string[] = [];
  const capture = rp(stmt('Allow', { Condition: { StringLike: { 'portcullis:seen': '*' } } }));
  for (const [template, url, params, method] of [
    ['/', '/prod/', {}, 'GET'],
    ['/files/{proxy+}', '/prod/files/a/b%20c', { proxy: 'a/b c' }, 'GET'],
    ['/pets/{id}', '/prod/pets/7', { id: '7' }, 'GET'],
  ] as const) {
    const def = definition(capture, 'none', template);
    const fn = stageFn(authorizeStage, def)!;
    const ctx = ctxFor(url, params);
    (ctx as { httpMethod: string }).httpMethod = method;
    await fn(ctx);
    seen.push(String((ctx.extensions.authorization as { denial?: { message: string } }).denial?.message ?? 'allowed'));
  }
  assert.deepEqual(seen.map((m) => m.replace(/^.*resource: /, '')), [
    `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/prod/GET/`,
    `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/prod/GET/files/a/b c`,
    `arn:aws:execute-api:us-east-1:${ACCOUNT}:${API_ID}/prod/GET/pets/7`,
  ]);
});

test('method ARNs over 1600 bytes are answered 414', async () => {
  const long = 'x'.repeat(1600);
  const r = await stageFn(authorizeStage, definition(RP.allow))!(ctxFor(`/prod/pets/${long}`, { id: long }));
  assert.equal(r?.type, 'URI_TOO_LONG');
});

test('condition keys: request keys, principal keys, extension keys; aws:* keys cannot be planted by other stages', () => {
  const build = createConditionContextBuilder({ trustedProxies: createTrustedProxies([]) });
  const ctx = ctxFor('/prod/pets/42', { id: '42' }, { 'user-agent': 'curl/8', referer: 'https://ref.example/' });
  const get = build(ctx);
  assert.equal(get('aws:sourceip'), '203.0.113.7');
  assert.equal(get('aws:securetransport'), 'false');
  assert.equal(get('aws:currenttime'), '2026-01-05T03:04:05Z');
  assert.equal(get('aws:epochtime'), String(Math.floor(Date.UTC(2026, 0, 5, 3, 4, 5) / 1000)));
  assert.equal(get('aws:useragent'), 'curl/8');
  assert.equal(get('aws:referer'), 'https://ref.example/');
  assert.equal(get('aws:principalarn'), undefined, 'anonymous: no principal keys');
  setCallerIdentity(ctx, {
    kind: 'iam',
    caller: { ...user(ACCOUNT), tags: new Map([['team', 'blue']]) },
  });
  assert.equal(get('aws:principalarn'), `arn:aws:iam::${ACCOUNT}:user/alice`);
  assert.equal(get('aws:principalaccount'), ACCOUNT);
  assert.equal(get('aws:principaltype'), 'User');
  assert.equal(get('aws:username'), 'alice');
  assert.equal(get('aws:userid'), 'AIDAEXAMPLE');
  assert.equal(get('aws:principaltag/team'), 'blue');
  assert.equal(get('aws:principaltag/other'), undefined);
  const keys = conditionKeysOf(ctx);
  keys.set('jwt:sub', 'user-9');
  keys.set('aws:sourceip', '10.0.0.1');
  assert.equal(get('jwt:sub'), 'user-9');
  assert.equal(get('aws:sourceip'), '203.0.113.7');
  assert.equal(get(API_KEY_ID_CONDITION_KEY.toLowerCase()), undefined);
  ctx.identity.apiKeyId = 'key123';
  assert.equal(get(API_KEY_ID_CONDITION_KEY.toLowerCase()), 'key123');
});

test('condition keys: X-Forwarded-* are believed only from a trusted proxy', () => {
  const trusting = createConditionContextBuilder({ trustedProxies: createTrustedProxies(['203.0.113.0/24']) });
  const ctx = ctxFor('/prod/pets/42', { id: '42' }, { 'x-forwarded-for': '198.51.100.4', 'x-forwarded-proto': 'https' });
  assert.equal(trusting(ctx)('aws:sourceip'), '198.51.100.4');
  assert.equal(trusting(ctx)('aws:securetransport'), 'true');
  const strict = createConditionContextBuilder({ trustedProxies: createTrustedProxies([]) });
  assert.equal(strict(ctx)('aws:sourceip'), '203.0.113.7');
  assert.equal(strict(ctx)('aws:securetransport'), 'false');
});

test('portcullis:ApiKeyId resolves the x-api-key value through the key directory before the api-key phase', async () => {
  const def = definition(rp(stmt('Allow', { Condition: { StringEquals: { 'portcullis:ApiKeyId': 'k-1' } } })));
  const deps: AuthorizeDeps = {
    keys: {
      hasher: { hash: (v: string) => `h(${v})` },
      directory: {
        lookup: (h: string) => (h === 'h(good-key)' ? ({ key: { id: 'k-1', enabled: true, expiresAtMs: Infinity }, untilMs: Infinity } as never) : undefined),
        size: 1, reload: async () => {}, refreshKey: async () => {}, close: async () => {},
      },
    },
  };
  const fn = stageFn(authorizeStage, def, deps)!;
  assert.equal(await fn(ctxFor('/prod/pets/42', { id: '42' }, { 'x-api-key': 'good-key' })), undefined);
  assert.equal((await fn(ctxFor('/prod/pets/42', { id: '42' }, { 'x-api-key': 'other' })))?.type, 'ACCESS_DENIED');
});

// Tests of the semantic checks on `authorizers` and the routes naming them: paths, suggestions, and the
// rules on scopes, key-source URLs, HMAC secrets and identity sources.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionSchema } from './schema.ts';
import { validateDefinition } from './validate.ts';

function problems(authorizers: unknown, auth: unknown = 'none'): string[] {
  const def = DefinitionSchema.parse({
    authorizers,
    apis: [{ name: 'a', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth, integration: { type: 'mock' } }] }],
  });
  return validateDefinition(def).map((p) => `${p.path}: ${p.message}`);
}

const jwt = { type: 'jwt', issuer: 'https://id.example.com', audiences: ['api'] };

test('an unknown authorizer is named with its path and a suggestion', () => {
  assert.deepEqual(problems({ cognito: { ...jwt } }, { authorizer: 'cognto' }), [
    'apis[0].routes[0].auth.authorizer: unknown authorizer "cognto" (did you mean "cognito"?)',
  ]);
});

test('scopes only on jwt and cognito authorizers', () => {
  assert.deepEqual(problems({ c: { type: 'token', url: 'https://authz.example.com' } }, { authorizer: 'c', scopes: ['a'] }), [
    'apis[0].routes[0].auth.scopes: scopes apply to jwt and cognito authorizers only; "c" is a token authorizer',
  ]);
  assert.deepEqual(problems({ j: jwt }, { authorizer: 'j', scopes: ['a'] }), []);
});

test('key sources must be https, except loopback http for development', () => {
  assert.match(problems({ j: { ...jwt, issuer: 'http://id.example.com' } }).join(), /issuer \(used for OIDC discovery.*must be https/);
  assert.match(problems({ j: { ...jwt, jwksUrl: 'http://keys.example.com/jwks' } }).join(), /jwksUrl must be https/);
  assert.deepEqual(problems({ j: { ...jwt, jwksUrl: 'http://127.0.0.1:8080/jwks' } }), []);
  assert.deepEqual(problems({ j: { ...jwt, issuer: 'http://localhost:9000' } }), []);
});

test('HMAC algorithms need hmacSecretEnv; "none" cannot even be configured', () => {
  assert.match(problems({ j: { ...jwt, algorithms: ['HS256'] } }).join(), /HS256 needs hmacSecretEnv/);
  assert.deepEqual(problems({ j: { ...jwt, algorithms: ['HS256'], hmacSecretEnv: 'JWT_SECRET' } }), []);
  assert.throws(() => problems({ j: { ...jwt, algorithms: ['none'] } }));
});

test('cognito pools give exactly one of poolId or issuer', () => {
  assert.match(problems({ p: { type: 'cognito', userPools: [{}] } }).join(), /exactly one of poolId or issuer/);
  assert.deepEqual(problems({ p: { type: 'cognito', userPools: [{ poolId: 'us-east-1_AbC123' }] } }), []);
});

test('identity sources: one header for token authorizers; request authorizers with caching need some; regex compiles', () => {
  assert.match(problems({ t: { type: 'token', url: 'https://a.example.com', identitySources: ['query.x'] } }).join(), /exactly one header/);
  assert.match(problems({ r: { type: 'request', url: 'https://a.example.com' } }).join(), /needs at least one identity source/);
  assert.deepEqual(problems({ r: { type: 'request', url: 'https://a.example.com', resultTtlSeconds: 0 } }), []);
  assert.match(problems({ t: { type: 'token', url: 'https://a.example.com', validationRegex: '(' } }).join(), /not a valid regular expression/);
  assert.match(problems({ r: { type: 'request', url: 'https://a.example.com', identitySources: ['header.A'], validationRegex: 'x' } }).join(), /token authorizers only/);
});

test('custom authorizers give exactly one of url or module; a module is a bare .mjs/.cjs/.js file name', () => {
  assert.deepEqual(problems({ m: { type: 'token', module: 'authz.mjs' } }), []);
  assert.match(problems({ m: { type: 'token' } }).join(), /^authorizers\.m: give exactly one of url .* or module/);
  assert.match(problems({ m: { type: 'token', url: 'https://a.example.com', module: 'authz.mjs' } }).join(), /exactly one of url/);
  for (const bad of ['../etc/x.mjs', 'sub/authz.mjs', 'authz.ts', '.hidden.mjs']) {
    assert.throws(() => problems({ m: { type: 'token', module: bad } }), /file name/, bad);
  }
});

test('cognito validationRegex must compile', () => {
  assert.match(problems({ p: { type: 'cognito', userPools: [{ poolId: 'us-east-1_Ab1' }], validationRegex: '[' } }).join(), /^authorizers\.p\.validationRegex: not a valid regular expression/);
});

test('custom authorizer result TTL: default 300 s, at most 3600 s (AWS), 0 allowed (cache off)', () => {
  const parse = (extra: object) => DefinitionSchema.parse({ authorizers: { t: { type: 'token', url: 'https://a.example.com', ...extra } }, apis: [] }).authorizers.t;
  assert.equal((parse({}) as { resultTtlSeconds: number }).resultTtlSeconds, 300);
  assert.equal((parse({ resultTtlSeconds: 0 }) as { resultTtlSeconds: number }).resultTtlSeconds, 0);
  assert.equal((parse({ resultTtlSeconds: 3600 }) as { resultTtlSeconds: number }).resultTtlSeconds, 3600);
  assert.throws(() => parse({ resultTtlSeconds: 3601 }));
});

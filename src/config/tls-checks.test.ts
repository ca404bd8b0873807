// The HTTPS part of validation: every problem names its path.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DefinitionSchema, type Definition } from './schema.ts';
import { validateDefinition } from './validate.ts';

const cert = { cert: 'c.pem', key: 'k.pem' };

function problems(def: object): string[] {
  return validateDefinition(DefinitionSchema.parse(def) as Definition).map((p) => `${p.path}: ${p.message}`);
}

const api = (auth = 'none') => ({ name: 'pets', stages: { prod: {} }, routes: [{ method: 'GET', path: '/x', auth, integration: { type: 'mock' } }] });

test('domains: names are unique; mappings name an existing API stage once per base path', () => {
  const found = problems({
    apis: [api()],
    domains: [
      { name: 'a.test', certificate: cert, basePathMappings: [{ api: 'pets', stage: 'prod' }, { api: 'pets', stage: 'beta' }] },
      { name: 'a.test', certificate: cert, basePathMappings: [{ basePath: 'v1', api: 'cats', stage: 'prod' }] },
    ],
  });
  assert.deepEqual(found, [
    'domains[0].basePathMappings[1].basePath: base path "(none)" is mapped twice on a.test',
    'domains[0].basePathMappings[1].stage: API pets has no stage "beta"',
    'domains[1].name: domain "a.test" is defined twice',
    'domains[1].basePathMappings[0].api: unknown API "cats"',
  ]);
});

test('HSTS preload needs includeSubDomains and a year; trusted proxies must parse', () => {
  assert.deepEqual(problems({ apis: [api()], settings: { hsts: { preload: true, maxAge: 600 }, trustedProxies: ['10.0.0.0/8', '10.0.0.0/99', 'proxy'] } }), [
    'settings.hsts.preload: preload needs includeSubDomains: true and a maxAge of at least 31536000 (one year)',
    'settings.trustedProxies[1]: "10.0.0.0/99" is not an IP address or CIDR',
    'settings.trustedProxies[2]: "proxy" is not an IP address or CIDR',
  ]);
  assert.deepEqual(problems({ apis: [api()], settings: { hsts: { preload: true, includeSubDomains: true } } }), []);
});

test('auth: mtls on an API that no mTLS domain maps is refused (it could never pass)', () => {
  assert.deepEqual(problems({ apis: [api('mtls')] }), ['apis[0].routes[0].auth: auth: mtls needs a client certificate, but no custom domain with mtls maps API pets']);
  assert.deepEqual(
    problems({ apis: [api('mtls')], domains: [{ name: 'a.test', certificate: cert, basePathMappings: [{ api: 'pets', stage: 'prod' }], mtls: { truststore: 't.pem' } }] }),
    [],
  );
});

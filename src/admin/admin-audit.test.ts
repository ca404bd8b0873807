// Audit event names derived from admin routes: what every route without an explicit eventName is recorded as.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveEventName } from './admin-audit.ts';
import { ADMIN_ROUTES } from './admin-server.ts';

test('event names follow AWS operation naming', () => {
  assert.equal(deriveEventName('GET', '/v1/api-keys'), 'ListApiKeys');
  assert.equal(deriveEventName('GET', '/v1/api-keys/{id}'), 'GetApiKey');
  assert.equal(deriveEventName('POST', '/v1/api-keys'), 'CreateApiKey');
  assert.equal(deriveEventName('POST', '/v1/api-keys/{id}'), 'UpdateApiKey');
  assert.equal(deriveEventName('DELETE', '/v1/api-keys/{id}'), 'DeleteApiKey');
  assert.equal(deriveEventName('POST', '/v1/api-keys/{id}/rotate'), 'RotateApiKey');
  assert.equal(deriveEventName('POST', '/v1/api-keys/import'), 'ImportApiKey');
  assert.equal(deriveEventName('POST', '/v1/usage-plans/{plan}/keys'), 'CreateUsagePlanKey');
  assert.equal(deriveEventName('GET', '/v1/principals/{id}/policies'), 'ListPrincipalPolicies');
  assert.equal(deriveEventName('DELETE', '/v1/usage-plans/{plan}/keys/{keyId}'), 'DeleteUsagePlanKey');
  assert.equal(deriveEventName('POST', '/v1/admin-tokens'), 'CreateAdminToken');
  assert.equal(deriveEventName('POST', '/v1/policies'), 'CreatePolicy');
});

test('every admin route has an event name', () => {
  for (const r of ADMIN_ROUTES) assert.match(deriveEventName(r.method, r.path), /^[A-Z][A-Za-z0-9]+$/, `${r.method} ${r.path}`);
});

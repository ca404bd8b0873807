// $context variables: each name reads the right RequestContext field, missing values are null, and
// unknown names fail when compiled.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { clfTime, compileVariable, CONTEXT_VARIABLE_NAMES, ContextVariableError, isContextVariable } from './context-variables.ts';
import { fakeContext, finishedContext } from './test-support.ts';

const get = (name: string, ctx = finishedContext()) => compileVariable(name)(ctx);

describe('compileVariable', () => {
  it('reads request identity, timing and routing fields', () => {
    const ctx = finishedContext({ headers: { 'user-agent': 'curl/8.5.0' } });
    assert.equal(compileVariable('requestId')(ctx), 'c0ffee00-1111-4222-8333-444455556666');
    assert.equal(compileVariable('$context.extendedRequestId')(ctx), 'AbCdEfGhIjKl');
    assert.equal(compileVariable('identity.sourceIp')(ctx), '203.0.113.7');
    assert.equal(compileVariable('identity.userAgent')(ctx), 'curl/8.5.0');
    assert.equal(compileVariable('httpMethod')(ctx), 'GET');
    assert.equal(compileVariable('resourcePath')(ctx), '/pets/{id}');
    assert.equal(compileVariable('path')(ctx), '/prod/pets/1');
    assert.equal(compileVariable('status')(ctx), 200);
    assert.equal(compileVariable('protocol')(ctx), 'HTTP/1.1');
    assert.equal(compileVariable('responseLength')(ctx), 42);
    assert.equal(compileVariable('requestTime')(ctx), '05/Jan/2026:03:04:05 +0000');
    assert.equal(compileVariable('requestTimeEpoch')(ctx), Date.UTC(2026, 0, 5, 3, 4, 5, 678));
    assert.equal(compileVariable('integrationLatency')(ctx), 9);
    assert.equal(compileVariable('integration.latency')(ctx), 9);
    assert.equal(compileVariable('integration.status')(ctx), 200);
    assert.equal(compileVariable('integrationStatus')(ctx), 200);
    assert.equal(compileVariable('responseLatency')(ctx), 12);
    assert.equal(compileVariable('apiId')(ctx), 'a1b2c3d4e5');
    assert.equal(compileVariable('stage')(ctx), 'prod');
    assert.equal(compileVariable('domainName')(ctx), 'api.example.com');
    assert.equal(compileVariable('domainPrefix')(ctx), 'api');
    assert.equal(compileVariable('routeKey')(ctx), 'GET /pets/{id}');
    assert.equal(compileVariable('apiName')(ctx), 'pets');
    assert.equal(compileVariable('secureTransport')(ctx), 'false');
  });

  it('returns null for what is not set, so logs print "-"', () => {
    const ctx = fakeContext();
    for (const name of [
      'identity.caller', 'identity.user', 'identity.apiKey', 'identity.apiKeyId', 'resourcePath', 'stage', 'apiId',
      'status', 'integrationLatency', 'integration.status', 'integration.error', 'responseLatency', 'error.message',
      'error.messageString', 'error.responseType', 'error.validationErrorString', 'routeKey', 'tlsVersion',
      'identity.clientCert.subjectDN', 'authenticate.status', 'waf.status', 'xrayTraceId', 'accountId',
    ]) {
      assert.equal(compileVariable(name)(ctx), null, name);
    }
  });

  it('reads error fields set by a denial', () => {
    const ctx = finishedContext();
    ctx.status = 403;
    ctx.error = { message: 'Forbidden', messageString: '"Forbidden"', responseType: 'INVALID_API_KEY', validationErrorString: '' };
    assert.equal(get('error.message', ctx), 'Forbidden');
    assert.equal(get('error.messageString', ctx), '"Forbidden"');
    assert.equal(get('error.responseType', ctx), 'INVALID_API_KEY');
    assert.equal(get('error.validationErrorString', ctx), null);
  });

  it('yields only what the context holds for the API key (the stage stores a hash prefix)', () => {
    const ctx = finishedContext({ headers: { 'x-api-key': 'the-real-key-value-0123456789' } });
    assert.equal(get('identity.apiKey', ctx), null);
    ctx.identity.apiKey = 'k:3f9a1c';
    ctx.identity.apiKeyId = 'key-17';
    assert.equal(get('identity.apiKey', ctx), 'k:3f9a1c');
    assert.equal(get('identity.apiKeyId', ctx), 'key-17');
  });

  it('reads authorizer context values and claims, never Object.prototype', () => {
    const ctx = finishedContext();
    ctx.authorizer = { principalId: 'user-1', tier: 'gold', count: 3, ok: true, claims: { sub: 'abc', scope: 'pets/read' } };
    assert.equal(get('authorizer.principalId', ctx), 'user-1');
    assert.equal(get('authorizer.tier', ctx), 'gold');
    assert.equal(get('authorizer.count', ctx), 3);
    assert.equal(get('authorizer.ok', ctx), 'true');
    assert.equal(get('authorizer.claims.sub', ctx), 'abc');
    assert.equal(get('authorizer.claims.scope', ctx), 'pets/read');
    assert.equal(get('authorizer.claims.email', ctx), null);
    assert.equal(get('authorizer.missing', ctx), null);
    assert.equal(get('authorizer.constructor', ctx), null);
    assert.equal(get('authorizer.claims.toString', ctx), null);
  });

  it('reads the client certificate when mTLS supplied one', () => {
    const ctx = finishedContext();
    ctx.identity.clientCert = {
      clientCertPem: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----',
      subjectDN: 'CN=client',
      issuerDN: 'CN=ca',
      serialNumber: '01',
      validity: { notBefore: 'Jan  1 00:00:00 2026 GMT', notAfter: 'Jan  1 00:00:00 2027 GMT' },
    };
    assert.equal(get('identity.clientCert.subjectDN', ctx), 'CN=client');
    assert.equal(get('identity.clientCert.issuerDN', ctx), 'CN=ca');
    assert.equal(get('identity.clientCert.serialNumber', ctx), '01');
    assert.equal(get('identity.clientCert.validity.notAfter', ctx), 'Jan  1 00:00:00 2027 GMT');
  });

  it('takes accountId from the options (the API owner, not the caller)', () => {
    assert.equal(compileVariable('accountId', { accountId: '123456789012' })(finishedContext()), '123456789012');
  });

  it('rejects unknown names at compile time, naming the variable', () => {
    for (const name of ['requestID', 'identity.sourceIP', 'rawQuery', 'identity', 'authorizer', 'authorizer.claims.', 'input.body']) {
      assert.throws(
        () => compileVariable(name),
        (err: unknown) => err instanceof ContextVariableError && err.code === 'UNKNOWN_CONTEXT_VARIABLE' && err.message.includes(`$context.${name}`),
        name,
      );
    }
    assert.equal(isContextVariable('requestId'), true);
    assert.equal(isContextVariable('nope'), false);
  });

  it('compiles every listed name', () => {
    const ctx = finishedContext();
    for (const name of CONTEXT_VARIABLE_NAMES) {
      const v = compileVariable(name)(ctx);
      assert.ok(v === null || typeof v === 'string' || typeof v === 'number', name);
    }
  });
});

describe('clfTime', () => {
  it('formats UTC in CLF, padding every field', () => {
    assert.equal(clfTime(Date.UTC(2026, 0, 5, 3, 4, 5)), '05/Jan/2026:03:04:05 +0000');
    assert.equal(clfTime(Date.UTC(2025, 11, 31, 23, 59, 59, 999)), '31/Dec/2025:23:59:59 +0000');
    assert.equal(clfTime(Date.UTC(2026, 0, 5, 3, 4, 5, 999)), '05/Jan/2026:03:04:05 +0000');
    assert.equal(clfTime(Date.UTC(2026, 0, 5, 3, 4, 6)), '05/Jan/2026:03:04:06 +0000');
  });
});

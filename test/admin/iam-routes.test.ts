// The IAM admin routes on a real gateway: policies validated before they are stored (problems with JSON paths),
// principals and access keys with their errors and roles, the secret shown once and redacted in the audit
// trail, the validator and the simulator (against the deployed API's resource policy), master-key re-sealing.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ADMIN_TOKEN, request, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

let gw: TestGateway;
let readOnly = '';

async function call(method: string, path: string, body?: unknown, token = ADMIN_TOKEN): Promise<{ status: number; json: any; text: string }> {
  const r = await request(gw.adminUrl, path, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
  });
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined, text: r.body };
}

const allowPets = { Version: '2012-10-17', Statement: [{ Sid: 'Pets', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:*/prod/GET/pets' }] };

before(async () => {
  gw = await startTestGateway({
    apis: [{
      name: 'pets', id: 'petsapi001', basePath: '/pets', stages: { prod: {} },
      routes: [{ method: 'GET', path: '/pets', auth: 'iam', integration: { type: 'mock', body: {} } }],
      resourcePolicy: {
        Version: '2012-10-17',
        Statement: [{ Sid: 'OfficeOnly', Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }],
      },
    }],
  });
  const t = await call('POST', '/v1/admin-tokens', { name: 'viewer', role: 'read-only' });
  readOnly = t.json.value;
});

after(async () => {
  await gw?.close();
});

describe('policies', () => {
  test('an invalid policy is refused with every problem and its JSON path; nothing is stored', async () => {
    const r = await call('POST', '/v1/iam/policies', {
      name: 'bad',
      document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', NotAction: 'x:y', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/40' } } }] },
    });
    assert.equal(r.status, 400, r.text);
    assert.equal(r.json.error.code, 'BAD_REQUEST');
    assert.deepEqual(r.json.problems.map((p: { path: string }) => p.path), ['Statement[0]', 'Statement[0].Condition.IpAddress["aws:SourceIp"]']);
    assert.equal((await call('GET', '/v1/iam/policies/bad')).status, 404);
  });

  test('create, replace, read, list; a policy still attached cannot be deleted (409)', async () => {
    const created = await call('POST', '/v1/iam/policies', { name: 'pets', description: 'read pets', document: allowPets });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json.created, true);
    const replaced = await call('POST', '/v1/iam/policies', { name: 'pets', document: JSON.stringify(allowPets) });
    assert.equal(replaced.status, 200);
    assert.equal(replaced.json.created, false);
    assert.deepEqual(JSON.parse((await call('GET', '/v1/iam/policies/pets')).json.policy.document), allowPets);
    assert.deepEqual((await call('GET', '/v1/iam/policies', undefined, readOnly)).json.policies.map((p: { name: string }) => p.name), ['pets']);
    const p = await call('POST', '/v1/iam/principals', { type: 'user', name: 'holder', policies: ['pets'] });
    assert.equal(p.status, 201, p.text);
    const del = await call('DELETE', '/v1/iam/policies/pets');
    assert.equal(del.status, 409, del.text);
    assert.equal((await call('DELETE', `/v1/iam/principals/${p.json.principal.id}`)).status, 200);
    assert.equal((await call('DELETE', '/v1/iam/policies/pets')).status, 200);
    assert.equal((await call('DELETE', '/v1/iam/policies/pets')).status, 404);
  });

  test('validate-policy: the messages deploy gives, for identity and resource policies', async () => {
    const ok = await call('POST', '/v1/iam/validate-policy', { document: allowPets }, readOnly);
    assert.deepEqual(ok.json, { valid: true, statementCount: 1 });
    const big = { Version: '2012-10-17', Statement: Array.from({ length: 80 }, (_, i) => ({ Sid: `S${i}`, Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: `execute-api:/prod/GET/resource-number-${i}` })) };
    const r = await call('POST', '/v1/iam/validate-policy', { document: big, kind: 'resource' }, readOnly);
    assert.equal(r.json.valid, false);
    assert.match(r.json.problems[0].message, /resource policies may have at most 8192/);
    const noPrincipal = await call('POST', '/v1/iam/validate-policy', { document: allowPets, kind: 'resource' }, readOnly);
    assert.deepEqual(noPrincipal.json.problems.map((p: { path: string }) => p.path), ['Statement[0]']);
  });
});

describe('principals and access keys', () => {
  test('the secret is answered once, never listed, and redacted in the audit trail', async () => {
    const p = await call('POST', '/v1/iam/principals', { type: 'role', name: 'deployer', path: '/ci/', tags: { team: 'ops' } });
    assert.equal(p.status, 201, p.text);
    assert.equal(p.json.principal.arn, 'arn:aws:iam::123456789012:role/ci/deployer');
    const k = await call('POST', `/v1/iam/principals/${encodeURIComponent(p.json.principal.arn)}/access-keys`);
    assert.equal(k.status, 201, k.text);
    const secret = k.json.accessKey.secretAccessKey as string;
    assert.equal(secret.length, 40);
    const list = await call('GET', `/v1/iam/access-keys?principal=${p.json.principal.id}`, undefined, readOnly);
    assert.equal(list.json.accessKeys.length, 1);
    assert.equal(list.text.includes(secret), false);
    assert.deepEqual(Object.keys(list.json.accessKeys[0]).sort(), ['accessKeyId', 'createdAt', 'expiresAt', 'lastUsedAt', 'principalId', 'status']);
    const s = await call('POST', `/v1/iam/principals/${p.json.principal.id}/session-credentials`);
    assert.equal(s.status, 201, s.text);
    const events = await call('GET', '/v1/audit/events?limit=10000');
    assert.equal(events.status, 200, events.text);
    assert.equal(events.text.includes(secret), false, 'the access-key secret is not in the audit trail');
    assert.equal(events.text.includes(s.json.credentials.secretAccessKey), false, 'nor the session secret');
    assert.equal(events.text.includes(s.json.credentials.sessionToken), false, 'nor the session token');
    const names = events.json.events.map((e: { eventName: string }) => e.eventName);
    for (const n of ['PutPolicy', 'CreatePrincipal', 'CreateAccessKey', 'GetSessionToken', 'DeletePolicy']) assert.ok(names.includes(n), `${n} is audited`);
    const created = events.json.events.find((e: { eventName: string }) => e.eventName === 'CreateAccessKey');
    assert.equal(created.responseElements.accessKey.accessKeyId, k.json.accessKey.accessKeyId);
  });

  test('errors: unknown principal or key (404), duplicate name (409), bad fields (400), unknown policy (404)', async () => {
    assert.equal((await call('GET', '/v1/iam/principals/AIDANOSUCHPRINCIPAL0')).status, 404);
    assert.equal((await call('POST', '/v1/iam/principals/AIDANOSUCHPRINCIPAL0/access-keys')).status, 404);
    assert.equal((await call('POST', '/v1/iam/access-keys/AKIANOSUCHKEY0000000', { status: 'inactive' })).status, 404);
    assert.equal((await call('DELETE', '/v1/iam/access-keys/AKIANOSUCHKEY0000000')).status, 404);
    assert.equal((await call('POST', '/v1/iam/principals', { type: 'user', name: 'dup' })).status, 201);
    assert.equal((await call('POST', '/v1/iam/principals', { type: 'user', name: 'dup' })).status, 409);
    const bad = await call('POST', '/v1/iam/principals', { type: 'group', name: 'x' });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /type must be user or role/);
    const unknownField = await call('POST', '/v1/iam/principals', { type: 'user', name: 'y', polices: [] });
    assert.equal(unknownField.status, 400);
    assert.match(unknownField.json.error.message, /unknown field "polices"/);
    assert.equal((await call('POST', '/v1/iam/principals', { type: 'user', name: 'z', policies: ['nope'] })).status, 404);
    const dur = await call('POST', '/v1/iam/principals/dup/session-credentials', { durationSeconds: 60 });
    assert.ok(dur.status === 400 || dur.status === 404);
  });

  test('roles: a read-only token can read and simulate but not change anything; re-sealing needs admin', async () => {
    const create = await call('POST', '/v1/iam/principals', { type: 'user', name: 'ro' }, readOnly);
    assert.equal(create.status, 403);
    assert.equal(create.json.error.requiredRole, 'operator');
    assert.equal((await call('GET', '/v1/iam/principals', undefined, readOnly)).status, 200);
    assert.equal((await call('POST', '/v1/iam/reseal-secrets', undefined, readOnly)).status, 403);
    const reseal = await call('POST', '/v1/iam/reseal-secrets');
    assert.equal(reseal.status, 200, reseal.text);
    assert.equal(reseal.json.resealed, 0, 'nothing is sealed under an older master key');
  });
});

describe('simulate', () => {
  test('against the deployed API: the resource policy\'s Deny on the source address decides, and each statement is explained', async () => {
    await call('POST', '/v1/iam/policies', { name: 'sim', document: allowPets });
    const p = await call('POST', '/v1/iam/principals', { type: 'user', name: 'simuser', policies: ['sim'], tags: { team: 'pets' } });
    const base = { api: 'pets', method: 'GET', path: '/pets', principal: p.json.principal.arn };
    const inside = await call('POST', '/v1/iam/simulate', { ...base, context: { 'aws:SourceIp': '10.1.2.3' } }, readOnly);
    assert.equal(inside.status, 200, inside.text);
    assert.equal(inside.json.decision, 'Allow');
    assert.equal(inside.json.methodArn, 'arn:aws:execute-api:us-east-1:123456789012:petsapi001/prod/GET/pets');
    assert.deepEqual(inside.json.statements.map((s: { policy: string; matched: boolean; deciding: boolean }) => [s.policy, s.matched, s.deciding]), [['sim', true, true], ['resource policy', false, false]]);
    assert.match(inside.json.statements[1].reasons[0], /NotIpAddress "aws:SourceIp" "10.0.0.0\/8" is false: the request has aws:SourceIp = "10.1.2.3"/);
    const outside = await call('POST', '/v1/iam/simulate', { ...base, context: { 'aws:SourceIp': '192.0.2.1' } }, readOnly);
    assert.equal(outside.json.decision, 'ExplicitDeny');
    // The identity Allow matched but did not decide: the resource policy's Deny did.
    assert.deepEqual(outside.json.statements.map((s: { policy: string; matched: boolean; deciding: boolean }) => [s.policy, s.matched, s.deciding]), [['sim', true, false], ['resource policy', true, true]]);
    assert.equal(outside.json.denial.message, 'User: arn:aws:iam::123456789012:user/simuser is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:petsapi001/prod/GET/pets with an explicit deny');
    const unknownApi = await call('POST', '/v1/iam/simulate', { ...base, api: 'nope' }, readOnly);
    assert.equal(unknownApi.status, 404);
    assert.match(unknownApi.json.error.message, /has no API "nope" \(it has pets\)/);
    const badDoc = await call('POST', '/v1/iam/simulate', { method: 'GET', path: '/x', identityPolicies: [{ Statement: [{ Effect: 'Permit', Action: '*', Resource: '*' }] }] }, readOnly);
    assert.equal(badDoc.status, 400);
    assert.equal(badDoc.json.problems[0].policy, 'identityPolicies[0]');
  });
});

// The policy simulator: decision, deciding statement, and why every other statement did not match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { simulatePolicies } from './simulate.ts';

const api = { region: 'us-east-1', accountId: '123456789012', apiId: 'abc123' };
const nowMs = Date.UTC(2026, 5, 1, 12, 0, 0);
const alice = { arn: 'arn:aws:iam::123456789012:user/alice', tags: { team: 'pets' } };

const identity = {
  Version: '2012-10-17',
  Statement: [
    { Sid: 'ReadPets', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:abc123/prod/GET/pets/*' },
    { Sid: 'TeamOnly', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalTag/team': 'admins' } } },
    { Sid: 'NoDelete', Effect: 'Deny', Action: 'execute-api:Invoke', Resource: 'arn:aws:execute-api:*:*:abc123/*/DELETE/*' },
  ],
};

test('an Allow decides; every other statement says which element did not match', () => {
  const r = simulatePolicies({ identityPolicies: [{ name: 'pets', document: identity }], principal: alice, api, stage: 'prod', method: 'GET', path: '/pets/7', nowMs });
  assert.ok(r.ok);
  assert.equal(r.decision, 'Allow');
  assert.equal(r.methodArn, 'arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/pets/7');
  assert.deepEqual(r.identity?.statement, { policyId: 'pets', sid: 'ReadPets', index: 0 });
  const [read, team, noDelete] = r.statements;
  assert.deepEqual([read!.matched, read!.deciding, read!.reasons], [true, true, []]);
  assert.equal(team!.matched, false);
  assert.deepEqual(team!.reasons, ['Condition StringEquals "aws:PrincipalTag/team" "admins" is false: the request has aws:PrincipalTag/team = "pets"']);
  assert.equal(noDelete!.matched, false);
  assert.match(noDelete!.reasons[0]!, /^Resource does not match arn:aws:execute-api:us-east-1:123456789012:abc123\/prod\/GET\/pets\/7$/);
});

test('an explicit Deny gives AWS\'s message with "with an explicit deny"', () => {
  const r = simulatePolicies({ identityPolicies: [{ name: 'pets', document: identity }], principal: alice, api, stage: 'prod', method: 'DELETE', path: '/pets/7', nowMs });
  assert.ok(r.ok);
  assert.equal(r.decision, 'ExplicitDeny');
  assert.equal(r.denial?.message, `User: ${alice.arn} is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc123/prod/DELETE/pets/7 with an explicit deny`);
  assert.equal(r.statements[2]!.deciding, true);
});

test('resource policy: anonymous caller, IP condition explained; cross-account IAM caller needs both sides', () => {
  const resourcePolicy = {
    Version: '2012-10-17',
    Statement: [
      { Sid: 'Office', Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } },
      { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: '210987654321' }, Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/*' },
    ],
  };
  const anon = simulatePolicies({ resourcePolicy, api, stage: 'prod', method: 'GET', path: '/x', context: { 'aws:SourceIp': '192.0.2.1' }, nowMs });
  assert.ok(anon.ok);
  assert.equal(anon.decision, 'ImplicitDeny');
  assert.equal(anon.denial?.message, 'User: anonymous is not authorized to perform: execute-api:Invoke on resource: arn:aws:execute-api:us-east-1:123456789012:abc123/prod/GET/x');
  assert.match(anon.statements[0]!.reasons[0]!, /IpAddress "aws:SourceIp" "10.0.0.0\/8" is false: the request has aws:SourceIp = "192.0.2.1"/);
  assert.match(anon.statements[1]!.reasons[0]!, /^Principal does not match the caller \(anonymous\)/);

  const partner = { arn: 'arn:aws:iam::210987654321:user/bob' };
  const noIdentity = simulatePolicies({ resourcePolicy, principal: partner, api, stage: 'prod', method: 'GET', path: '/x', nowMs });
  assert.ok(noIdentity.ok);
  assert.equal(noIdentity.sameAccount, false);
  assert.equal(noIdentity.decision, 'ImplicitDeny');
  const allowAll = { Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'execute-api:*', Resource: '*' } };
  const both = simulatePolicies({ identityPolicies: [{ name: 'all', document: allowAll }], resourcePolicy, principal: partner, api, stage: 'prod', method: 'GET', path: '/x', nowMs });
  assert.ok(both.ok);
  assert.equal(both.decision, 'Allow');
  assert.equal(both.grantedBy, 'both');
});

test('invalid documents: every problem with the policy name and JSON path', () => {
  const r = simulatePolicies({
    identityPolicies: [{ name: 'bad', document: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'x:y', NotAction: 'x:z', Resource: '*' }] } }],
    resourcePolicy: { Statement: [{ Effect: 'Allow', Principal: '*', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/33' } } }] },
    api, stage: 'prod', method: 'GET', path: '/', nowMs,
  });
  assert.equal(r.ok, false);
  assert.ok(!r.ok);
  assert.deepEqual(r.problems.map((p) => [p.policy, p.path]), [['bad', 'Statement[0]'], ['resource policy', 'Statement[0].Condition.IpAddress["aws:SourceIp"]']]);
});

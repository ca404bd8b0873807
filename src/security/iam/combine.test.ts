// Table-driven tests of combineDecisions: every row of API Gateway's outcome tables A (same account) and B
// (cross-account) for each auth type, the client-visible messages, and the Lambda pre-authorizer phase.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  checkResourcePolicyBeforeAuthorizer, combineDecisions, LAMBDA_EXPLICIT_DENY_MESSAGE, LAMBDA_IMPLICIT_DENY_MESSAGE,
  type AuthType, type Decision,
} from './index.ts';

const ARN = 'arn:aws:execute-api:us-east-1:111122223333:abc123/prod/GET/pets/42';
const USER = 'arn:aws:iam::111122223333:user/alice';
const NEITHER: Decision = 'ImplicitDeny';
const ALL: Decision[] = ['Allow', 'ImplicitDeny', 'ExplicitDeny'];

type Result = 'Allow' | 'ExplicitDeny' | 'ImplicitDeny';

// Reference §6.1, Table A (same account). "any" rows expand to every decision.
const TABLE_A: [Decision | 'any', Decision | 'any', Result][] = [
  ['Allow', 'Allow', 'Allow'],
  ['Allow', NEITHER, 'Allow'],
  ['Allow', 'ExplicitDeny', 'ExplicitDeny'],
  [NEITHER, 'Allow', 'Allow'],
  [NEITHER, NEITHER, 'ImplicitDeny'],
  [NEITHER, 'ExplicitDeny', 'ExplicitDeny'],
  ['ExplicitDeny', 'any', 'ExplicitDeny'],
];

// Reference §6.1, Table B (caller in another account): both sides must allow.
const TABLE_B: [Decision | 'any', Decision | 'any', Result][] = [
  ['Allow', 'Allow', 'Allow'],
  ['Allow', NEITHER, 'ImplicitDeny'],
  [NEITHER, 'Allow', 'ImplicitDeny'],
  [NEITHER, NEITHER, 'ImplicitDeny'],
  ['any', 'ExplicitDeny', 'ExplicitDeny'],
  ['ExplicitDeny', 'any', 'ExplicitDeny'],
];

const expand = (d: Decision | 'any'): Decision[] => (d === 'any' ? ALL : [d]);

for (const [name, table, sameAccount] of [['A (same account)', TABLE_A, true], ['B (cross-account)', TABLE_B, false]] as const) {
  for (const authType of ['iam', 'lambda', 'cognito'] as AuthType[]) {
    test(`Table ${name}, ${authType}: every row`, () => {
      for (const [idRow, resRow, expected] of table) {
        for (const identity of expand(idRow)) {
          for (const resource of expand(resRow)) {
            const r = combineDecisions({ identity, resource, sameAccount, authType, resourceArn: ARN, principalArn: USER });
            assert.equal(r.decision, expected, `identity=${identity} resource=${resource}`);
            assert.equal(r.allowed, expected === 'Allow');
          }
        }
      }
    });
  }
}

test('no authentication: only an explicit resource-policy Allow lets the call through', () => {
  const rows: [Decision | undefined, Result][] = [['Allow', 'Allow'], [NEITHER, 'ImplicitDeny'], ['ExplicitDeny', 'ExplicitDeny'], [undefined, 'Allow']];
  for (const sameAccount of [true, false]) {
    for (const [resource, expected] of rows) {
      const r = combineDecisions({ resource, sameAccount, authType: 'none', resourceArn: ARN });
      assert.equal(r.decision, expected, `resource=${resource}`);
    }
  }
  const open = combineDecisions({ sameAccount: true, authType: 'none', resourceArn: ARN });
  assert.deepEqual(open, { allowed: true, decision: 'Allow', grantedBy: 'none' });
  assert.throws(() => combineDecisions({ identity: 'Allow', sameAccount: true, authType: 'none', resourceArn: ARN }), TypeError);
});

test('without a resource policy the identity side decides (same account); cross-account IAM needs one', () => {
  for (const authType of ['iam', 'lambda', 'cognito'] as AuthType[]) {
    for (const identity of ALL) {
      const r = combineDecisions({ identity, sameAccount: true, authType, resourceArn: ARN, principalArn: USER });
      assert.equal(r.decision, identity, `${authType} ${identity}`);
    }
  }
  const cross = combineDecisions({ identity: 'Allow', sameAccount: false, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.equal(cross.decision, 'ImplicitDeny');
});

test('private APIs refuse every call until a resource policy is attached', () => {
  const r = combineDecisions({ identity: 'Allow', sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER, privateApi: true });
  assert.equal(r.decision, 'ImplicitDeny');
  const withPolicy = combineDecisions({ identity: 'Allow', resource: 'Allow', sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER, privateApi: true });
  assert.equal(withPolicy.decision, 'Allow');
});

test('an account-level resource Allow delegates to the identity side in the same account, and counts across accounts', () => {
  const accountAllow = { decision: 'Allow', accountOnly: true, statement: { index: 0 } } as const;
  const same = (identity: Decision) => combineDecisions({ identity, resource: accountAllow, sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.equal(same('Allow').decision, 'Allow');
  assert.equal(same(NEITHER).decision, 'ImplicitDeny');
  const refused = same(NEITHER);
  assert.match(refused.allowed ? '' : refused.denial.detail ?? '', /only an account-level Allow matched/);
  const cross = combineDecisions({ identity: 'Allow', resource: accountAllow, sameAccount: false, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.equal(cross.decision, 'Allow');
});

// ----------------------------------------------------------------------------------------------- messages

function denial(input: Parameters<typeof combineDecisions>[0]) {
  const r = combineDecisions(input);
  assert.equal(r.allowed, false);
  if (r.allowed) throw new Error('unreachable');
  return r;
}

test('IAM denials quote the caller ARN, with " with an explicit deny" when a Deny matched', () => {
  const explicit = denial({ identity: 'Allow', resource: 'ExplicitDeny', sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.deepEqual(
    { type: explicit.denial.type, message: explicit.denial.message, key: explicit.denial.messageKey, by: explicit.deniedBy },
    { type: 'ACCESS_DENIED', message: `User: ${USER} is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`, key: 'Message', by: 'resource' },
  );
  const identityDeny = denial({ identity: 'ExplicitDeny', resource: 'Allow', sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.equal(identityDeny.deniedBy, 'identity');
  assert.match(identityDeny.denial.message!, / with an explicit deny$/);
  const implicit = denial({ identity: NEITHER, sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER });
  assert.equal(implicit.denial.message, `User: ${USER} is not authorized to perform: execute-api:Invoke on resource: ${ARN}`);
  const other = denial({ identity: NEITHER, sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER, action: 'execute-api:InvalidateCache' });
  assert.match(other.denial.message!, /perform: execute-api:InvalidateCache on/);
});

test('resource-policy denials of non-IAM callers say "User: anonymous"', () => {
  for (const authType of ['none', 'cognito', 'lambda'] as AuthType[]) {
    const r = denial({ ...(authType === 'none' ? {} : { identity: 'Allow' as Decision }), resource: 'ExplicitDeny', sameAccount: true, authType, resourceArn: ARN });
    assert.equal(r.denial.message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`, authType);
    assert.equal(r.denial.messageKey, 'Message');
  }
  const none = denial({ resource: NEITHER, sameAccount: true, authType: 'none', resourceArn: ARN });
  assert.equal(none.denial.message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN}`);
});

test('a Lambda authorizer policy answers with its own short texts', () => {
  const explicit = denial({ identity: 'ExplicitDeny', resource: 'Allow', sameAccount: true, authType: 'lambda', resourceArn: ARN });
  assert.deepEqual([explicit.denial.message, explicit.denial.messageKey], [LAMBDA_EXPLICIT_DENY_MESSAGE, 'message']);
  assert.equal(LAMBDA_EXPLICIT_DENY_MESSAGE, 'User is not authorized to access this resource with an explicit deny');
  const implicit = denial({ identity: NEITHER, sameAccount: true, authType: 'lambda', resourceArn: ARN });
  assert.deepEqual([implicit.denial.message, implicit.denial.messageKey], [LAMBDA_IMPLICIT_DENY_MESSAGE, 'message']);
  assert.equal(LAMBDA_IMPLICIT_DENY_MESSAGE, 'User is not authorized to access this resource');
  // Cross-account: the authorizer allowed, the resource policy did not.
  const cross = denial({ identity: 'Allow', resource: NEITHER, sameAccount: false, authType: 'lambda', resourceArn: ARN });
  assert.equal(cross.deniedBy, 'resource');
  assert.match(cross.denial.message!, /^User: anonymous is not authorized/);
});

test('log details name the deciding statement but never reach the message', () => {
  const r = denial({
    identity: 'Allow', resource: { decision: 'ExplicitDeny', statement: { policyId: 'rp', sid: 'DenyAdmin', index: 2 } },
    sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER,
  });
  assert.equal(r.denial.detail, 'resource policy: explicit deny (statement "DenyAdmin" (#2) of policy "rp")');
  assert.doesNotMatch(r.denial.message!, /DenyAdmin/);
});

test('Lambda phase 1: only an explicit resource-policy Deny refuses before the authorizer runs', () => {
  assert.equal(checkResourcePolicyBeforeAuthorizer(undefined, ARN), undefined);
  assert.equal(checkResourcePolicyBeforeAuthorizer('Allow', ARN), undefined);
  assert.equal(checkResourcePolicyBeforeAuthorizer(NEITHER, ARN), undefined);
  const r = checkResourcePolicyBeforeAuthorizer({ decision: 'ExplicitDeny', statement: { index: 0 } }, ARN);
  assert.ok(r && !r.allowed);
  assert.equal(r.denial.message, `User: anonymous is not authorized to perform: execute-api:Invoke on resource: ${ARN} with an explicit deny`);
  assert.equal(r.denial.messageKey, 'Message');
});

test('grantedBy says which side allowed', () => {
  const g = (identity: Decision, resource: Decision) => {
    const r = combineDecisions({ identity, resource, sameAccount: true, authType: 'iam', resourceArn: ARN, principalArn: USER });
    return r.allowed ? r.grantedBy : r.decision;
  };
  assert.deepEqual([g('Allow', 'Allow'), g('Allow', NEITHER), g(NEITHER, 'Allow')], ['both', 'identity', 'resource']);
});

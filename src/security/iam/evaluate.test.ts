// Tests for evaluate(): Deny beats Allow, implicit deny, the deciding statement, actions, resources (globs,
// NotResource, variables), and principal matching in resource policies (accounts, users, roles, sessions).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConditionContext, evaluate, parsePolicy, type CompiledPolicy, type EvaluationRequest } from './index.ts';

const ACCT = '111122223333';
const API = `arn:aws:execute-api:us-east-1:${ACCT}:abc123`;

function compile(doc: unknown, kind: 'identity' | 'resource' = 'identity'): CompiledPolicy {
  const r = parsePolicy(doc, { kind });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return r.policy;
}
const P = (...Statement: Record<string, unknown>[]) => ({ Version: '2012-10-17', Statement });
const req = (over: Partial<EvaluationRequest> = {}): EvaluationRequest => ({
  action: 'execute-api:Invoke', resource: `${API}/prod/GET/pets/42`, context: new Map(), ...over,
});

test('no statement matches: implicit deny; an Allow matches: allow; a Deny matches: explicit deny, whatever the order', () => {
  const allow = { Sid: 'A', Effect: 'Allow', Action: 'execute-api:Invoke', Resource: `${API}/*` };
  const deny = { Sid: 'D', Effect: 'Deny', Action: 'execute-api:*', Resource: `${API}/*/GET/pets/*` };
  assert.deepEqual(evaluate([compile(P(allow))], req({ resource: 'arn:aws:execute-api:us-east-1:1:x/y' })), { decision: 'ImplicitDeny' });
  assert.deepEqual(evaluate([compile(P(allow))], req()), { decision: 'Allow', statement: { sid: 'A', index: 0 } });
  assert.deepEqual(evaluate([compile(P(allow, deny))], req()), { decision: 'ExplicitDeny', statement: { sid: 'D', index: 1 } });
  assert.deepEqual(evaluate([compile(P(deny)), compile(P(allow))], req()).decision, 'ExplicitDeny');
  assert.deepEqual(evaluate([compile(P(allow)), compile(P(deny))], req()).decision, 'ExplicitDeny');
  assert.deepEqual(evaluate([], req()), { decision: 'ImplicitDeny' });
});

test('actions: case-insensitive globs; NotAction; "*"', () => {
  const cases: [unknown, string, boolean][] = [
    ['execute-api:Invoke', 'execute-api:Invoke', true],
    ['execute-api:invoke', 'EXECUTE-API:INVOKE', true],
    ['execute-api:In*', 'execute-api:Invoke', true],
    ['execute-api:In*', 'execute-api:InvalidateCache', true],
    ['execute-api:?nvoke', 'execute-api:Invoke', true],
    ['execute-api:*Cache', 'execute-api:Invoke', false],
    ['execute-api:*', 'mygw:Invoke', false],
    ['*', 'anything:AtAll', true],
    [['a:b', 'execute-api:Invoke'], 'execute-api:Invoke', true],
  ];
  for (const [action, requested, expected] of cases) {
    const d = evaluate([compile(P({ Effect: 'Allow', Action: action, Resource: '*' }))], req({ action: requested })).decision;
    assert.equal(d === 'Allow', expected, `${JSON.stringify(action)} vs ${requested}`);
    const n = evaluate([compile(P({ Effect: 'Allow', NotAction: action, Resource: '*' }))], req({ action: requested })).decision;
    assert.equal(n === 'Allow', !expected, `NotAction ${JSON.stringify(action)} vs ${requested}`);
  }
});

test('resources: case-sensitive ARN globs, field by field', () => {
  const cases: [string, string, boolean][] = [
    ['*', `${API}/prod/GET/pets/42`, true],
    ['arn:aws:execute-api:*:*:*', `${API}/prod/GET/pets/42`, true],
    [`${API}/*`, `${API}/prod/GET/pets/42`, true],
    [`${API}/*/GET/*`, `${API}/prod/GET/pets/42`, true],
    [`${API}/*/POST/*`, `${API}/prod/GET/pets/42`, false],
    [`${API}/prod/GET/pets/??`, `${API}/prod/GET/pets/42`, true],
    [`${API}/prod/GET/pets/?`, `${API}/prod/GET/pets/42`, false],
    [`${API}/prod/get/pets/42`, `${API}/prod/GET/pets/42`, false], // case-sensitive
    [`${API}/prod/GET/`, `${API}/prod/GET/`, true], // the root resource
    [`${API}/prod/GET/`, `${API}/prod/GET/pets`, false],
    [`arn:aws:execute-api:us-*:${ACCT}:abc123/*`, `${API}/prod/GET/pets/42`, true],
    [`arn:aws:execute-api:us-*:${ACCT}:abc123/*`, `arn:aws:execute-api:eu-west-1:${ACCT}:abc123/prod/GET/x`, false],
    ['arn:aws:execute-api:us-east-1:*:abc123/*', `${API}/prod/GET/pets/42`, true],
    // A * in the region must not swallow the colon into the account field.
    [`arn:aws:execute-api:*:${ACCT}:abc123/*`, `arn:aws:execute-api:us-east-1:x:${ACCT}:abc123/p`, false],
    [`arn:aws:execute-api:us-east-1:${ACCT}:*/prod/*`, `${API}/prod/GET/pets/42`, true], // * in the API id
    [`${API}/prod/GET/pets/42`, 'not-an-arn', false],
  ];
  for (const [pattern, resource, expected] of cases) {
    const d = evaluate([compile(P({ Effect: 'Allow', Action: '*', Resource: pattern }))], req({ resource })).decision;
    assert.equal(d === 'Allow', expected, `${pattern} vs ${resource}`);
  }
});

test('NotResource matches everything except the listed resources', () => {
  const p = compile(P({ Effect: 'Deny', Action: '*', NotResource: [`${API}/*/GET/*`, `${API}/*/HEAD/*`] }));
  assert.equal(evaluate([p], req()).decision, 'ImplicitDeny');
  assert.equal(evaluate([p], req({ resource: `${API}/prod/DELETE/pets/42` })).decision, 'ExplicitDeny');
});

test('policy variables in Resource: substituted per request; no value matches nothing (Resource and NotResource)', () => {
  const home = compile(P({ Effect: 'Allow', Action: '*', Resource: `${API}/*/*/users/\${aws:username}/*` }));
  const ctx = (u?: string) => createConditionContext(u === undefined ? {} : { 'aws:username': u });
  assert.equal(evaluate([home], req({ resource: `${API}/prod/GET/users/alice/x`, context: ctx('alice') })).decision, 'Allow');
  assert.equal(evaluate([home], req({ resource: `${API}/prod/GET/users/bob/x`, context: ctx('alice') })).decision, 'ImplicitDeny');
  assert.equal(evaluate([home], req({ resource: `${API}/prod/GET/users/alice/x`, context: ctx() })).decision, 'ImplicitDeny');
  // A value containing * is literal: "*" as a user name does not open every home.
  assert.equal(evaluate([home], req({ resource: `${API}/prod/GET/users/bob/x`, context: ctx('*') })).decision, 'ImplicitDeny');
  const team = compile(P({ Effect: 'Allow', Action: '*', Resource: `${API}/*/*/teams/\${aws:PrincipalTag/team, 'shared'}/*` }));
  assert.equal(evaluate([team], req({ resource: `${API}/prod/GET/teams/shared/x`, context: ctx() })).decision, 'Allow');
  // NotResource with a variable that has no value: the statement does not apply (for Deny as for Allow).
  const notRes = compile(P({ Effect: 'Deny', Action: '*', NotResource: `${API}/*/*/users/\${aws:username}/*` }));
  assert.equal(evaluate([notRes], req({ resource: `${API}/prod/GET/other`, context: ctx() })).decision, 'ImplicitDeny');
  assert.equal(evaluate([notRes], req({ resource: `${API}/prod/GET/other`, context: ctx('alice') })).decision, 'ExplicitDeny');
});

test('Version 2008-10-17 policies never read ${...} (and are rejected if they contain it)', () => {
  const r = parsePolicy({ Version: '2008-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: `${API}/*` }] }, { kind: 'identity' });
  assert.ok(r.ok);
  assert.equal(evaluate([r.policy], req()).decision, 'Allow');
});

// ------------------------------------------------------------------------------------------- principals

const ALICE = `arn:aws:iam::${ACCT}:user/alice`;
const BOB = `arn:aws:iam::${ACCT}:user/bob`;
const ROLE = `arn:aws:iam::${ACCT}:role/ops/Deploy`;
const SESSION = `arn:aws:sts::${ACCT}:assumed-role/Deploy/ci-42`;
const SESSION_LOWER = `arn:aws:sts::${ACCT}:assumed-role/deploy/ci-43`;
const FEDERATED = `arn:aws:sts::${ACCT}:federated-user/alice`;
const ROOT = `arn:aws:iam::${ACCT}:root`;
const CAROL = 'arn:aws:iam::444455556666:user/carol';

function rp(principal: unknown, effect = 'Allow', key: 'Principal' | 'NotPrincipal' = 'Principal') {
  return compile(P({ Effect: effect, [key]: principal, Action: 'execute-api:Invoke', Resource: `${API}/*` }), 'resource');
}
const as = (arn?: string) => req(arn ? { principal: { arn } } : {});

test('Principal "*" matches everyone, anonymous callers included', () => {
  for (const p of ['*', { AWS: '*' }, { AWS: ['*'] }]) {
    for (const who of [undefined, ALICE, CAROL, SESSION]) assert.equal(evaluate([rp(p)], as(who)).decision, 'Allow', `${JSON.stringify(p)} ${who}`);
  }
});

test('exact principals; anonymous callers never match an AWS principal', () => {
  const p = rp({ AWS: [ALICE, CAROL] });
  assert.deepEqual(evaluate([p], as(ALICE)), { decision: 'Allow', statement: { index: 0 } });
  assert.equal(evaluate([p], as(CAROL)).decision, 'Allow');
  assert.equal(evaluate([p], as(BOB)).decision, 'ImplicitDeny');
  assert.equal(evaluate([p], as()).decision, 'ImplicitDeny');
  assert.equal(evaluate([rp({ AWS: ALICE.toUpperCase().replace('ARN:AWS:IAM', 'arn:aws:iam') })], as(ALICE)).decision, 'ImplicitDeny');
});

test('an account (id or root ARN) matches every principal of that account, as an account-level Allow', () => {
  for (const p of [{ AWS: ACCT }, { AWS: ROOT }]) {
    for (const who of [ALICE, SESSION, ROOT, FEDERATED]) {
      assert.deepEqual(evaluate([rp(p)], as(who)), { decision: 'Allow', statement: { index: 0 }, accountOnly: true }, `${JSON.stringify(p)} ${who}`);
    }
    assert.equal(evaluate([rp(p)], as(CAROL)).decision, 'ImplicitDeny');
    assert.equal(evaluate([rp(p)], as()).decision, 'ImplicitDeny');
    // A Deny that names the account denies.
    assert.equal(evaluate([rp(p, 'Deny')], as(ALICE)).decision, 'ExplicitDeny');
  }
  // A direct Allow wins over an account-level one.
  const both = compile(P(
    { Effect: 'Allow', Principal: { AWS: ACCT }, Action: '*', Resource: '*' },
    { Sid: 'direct', Effect: 'Allow', Principal: { AWS: ALICE }, Action: '*', Resource: '*' },
  ), 'resource');
  assert.deepEqual(evaluate([both], as(ALICE)), { decision: 'Allow', statement: { sid: 'direct', index: 1 } });
  // The accountId given with the principal wins over the ARN's.
  assert.equal(evaluate([rp({ AWS: '999999999999' })], req({ principal: { arn: ALICE, accountId: '999999999999' } })).decision, 'Allow');
});

test('a role ARN matches the role and its sessions (role name case-insensitive, path ignored)', () => {
  const p = rp({ AWS: ROLE });
  assert.equal(evaluate([p], as(ROLE)).decision, 'Allow');
  assert.equal(evaluate([p], as(SESSION)).decision, 'Allow');
  assert.equal(evaluate([p], as(SESSION_LOWER)).decision, 'Allow');
  assert.equal(evaluate([p], as('arn:aws:sts::444455556666:assumed-role/Deploy/x')).decision, 'ImplicitDeny');
  assert.equal(evaluate([p], as(`arn:aws:iam::${ACCT}:role/Other`)).decision, 'ImplicitDeny');
  // A session ARN names that session only.
  const s = rp({ AWS: SESSION });
  assert.equal(evaluate([s], as(SESSION)).decision, 'Allow');
  assert.equal(evaluate([s], as(`arn:aws:sts::${ACCT}:assumed-role/Deploy/other`)).decision, 'ImplicitDeny');
  assert.equal(evaluate([s], as(ROLE)).decision, 'ImplicitDeny');
});

test('a user ARN also matches that user\'s federated-user sessions', () => {
  assert.equal(evaluate([rp({ AWS: ALICE })], as(FEDERATED)).decision, 'Allow');
  assert.equal(evaluate([rp({ AWS: BOB })], as(FEDERATED)).decision, 'ImplicitDeny');
});

test('NotPrincipal matches everyone not listed, anonymous callers included', () => {
  const p = rp({ AWS: [ALICE] }, 'Deny', 'NotPrincipal');
  assert.equal(evaluate([p], as(ALICE)).decision, 'ImplicitDeny');
  assert.equal(evaluate([p], as(BOB)).decision, 'ExplicitDeny');
  assert.equal(evaluate([p], as()).decision, 'ExplicitDeny');
  const acct = rp({ AWS: ACCT }, 'Deny', 'NotPrincipal');
  assert.equal(evaluate([acct], as(ALICE)).decision, 'ImplicitDeny');
  assert.equal(evaluate([acct], as(CAROL)).decision, 'ExplicitDeny');
  const role = rp({ AWS: ROLE }, 'Deny', 'NotPrincipal');
  assert.equal(evaluate([role], as(SESSION)).decision, 'ImplicitDeny');
  assert.equal(evaluate([rp('*', 'Deny', 'NotPrincipal')], as()).decision, 'ImplicitDeny');
});

test('identity policies ignore the principal', () => {
  const p = compile(P({ Effect: 'Allow', Action: '*', Resource: '*' }));
  assert.equal(evaluate([p], as()).decision, 'Allow');
  assert.equal(evaluate([p], as(CAROL)).decision, 'Allow');
});

test('evaluation is pure: the same inputs give the same result, and a context is never written', () => {
  const ctx = createConditionContext({ 'aws:SourceIp': '10.0.0.1' });
  const p = compile(P({ Effect: 'Allow', Action: '*', Resource: '*', Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } } }));
  const a = evaluate([p], req({ context: ctx }));
  const b = evaluate([p], req({ context: ctx }));
  assert.deepEqual(a, b);
  assert.deepEqual([...ctx], [['aws:sourceip', '10.0.0.1']]);
  assert.ok(Object.isFrozen(p));
});

// Table-driven tests for every condition operator: values, IfExists, ForAnyValue/ForAllValues, missing and
// multivalued keys, negation, policy variables, case-insensitive keys, and non-comparable request values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConditionContext, evaluate, parsePolicy, type ContextValue } from './index.ts';
import { parseOperatorName } from './conditions.ts';

const RES = 'arn:aws:execute-api:us-east-1:111122223333:abc123/prod/GET/pets';

/** True when a single Allow statement with this condition block matches the context. */
export function holds(condition: Record<string, unknown>, ctx: Record<string, ContextValue | undefined>, version = '2012-10-17'): boolean {
  const r = parsePolicy({ Version: version, Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: condition } }, { kind: 'identity' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  return evaluate([r.policy], { action: 'execute-api:Invoke', resource: RES, context: createConditionContext(ctx) }).decision === 'Allow';
}

type Row = [op: string, policyValue: unknown, requestValue: ContextValue | undefined, expected: boolean];

function table(name: string, key: string, rows: Row[]) {
  test(name, () => {
    for (const [op, pv, rv, expected] of rows) {
      const got = holds({ [op]: { [key]: pv } }, rv === undefined ? {} : { [key]: rv });
      assert.equal(got, expected, `${op} ${JSON.stringify(pv)} vs ${JSON.stringify(rv)}`);
    }
  });
}

table('String operators', 'aws:PrincipalTag/team', [
  ['StringEquals', 'pets', 'pets', true],
  ['StringEquals', 'pets', 'Pets', false],
  ['StringEquals', ['cats', 'pets'], 'pets', true], // OR between values
  ['StringEquals', 'p*', 'pets', false], // no wildcards in StringEquals
  ['StringEquals', 'p*', 'p*', true],
  ['StringEquals', '', '', true],
  ['StringEquals', 'pets', undefined, false],
  ['StringNotEquals', 'pets', 'cats', true],
  ['StringNotEquals', 'pets', 'pets', false],
  ['StringNotEquals', ['cats', 'pets'], 'pets', false], // negated: AND between values
  ['StringNotEquals', ['cats', 'pets'], 'dogs', true],
  ['StringNotEquals', 'pets', undefined, true], // negated operators match a missing key
  ['StringEqualsIgnoreCase', 'PETS', 'pets', true],
  ['StringEqualsIgnoreCase', 'pets', 'cats', false],
  ['StringEqualsIgnoreCase', 'pets', undefined, false],
  ['StringNotEqualsIgnoreCase', 'PETS', 'pets', false],
  ['StringNotEqualsIgnoreCase', 'PETS', 'cats', true],
  ['StringNotEqualsIgnoreCase', 'PETS', undefined, true],
  ['StringLike', 'p*', 'pets', true],
  ['StringLike', 'p?ts', 'pets', true],
  ['StringLike', 'p?ts', 'pts', false],
  ['StringLike', '*', '', true],
  ['StringLike', 'P*', 'pets', false], // case-sensitive
  ['StringLike', ['c*', '*ts'], 'pets', true],
  ['StringLike', 'p*', undefined, false],
  ['StringNotLike', 'p*', 'cats', true],
  ['StringNotLike', ['c*', 'p*'], 'pets', false],
  ['StringNotLike', 'p*', undefined, true],
]);

table('Numeric operators', 'mygw:count', [
  ['NumericEquals', '5', '5', true],
  ['NumericEquals', '5', '5.0', true],
  ['NumericEquals', 5, '5', true], // JSON numbers are accepted in policies
  ['NumericEquals', '5', '6', false],
  ['NumericEquals', '5', 'five', false], // not comparable
  ['NumericNotEquals', '5', '6', true],
  ['NumericNotEquals', '5', '5', false],
  ['NumericNotEquals', '5', 'five', false], // not comparable: false even when negated
  ['NumericNotEquals', '5', undefined, true],
  ['NumericLessThan', '10', '9.5', true],
  ['NumericLessThan', '10', '10', false],
  ['NumericLessThanEquals', '10', '10', true],
  ['NumericGreaterThan', '-1', '0', true],
  ['NumericGreaterThan', '0', '0', false],
  ['NumericGreaterThanEquals', '0.5', '.5', true],
  ['NumericGreaterThanEquals', '1', undefined, false],
  ['NumericLessThan', ['1', '100'], '50', true], // OR: less than 100
]);

table('Date operators', 'aws:CurrentTime', [
  ['DateEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z', true],
  ['DateEquals', '2026-01-01T00:00:00Z', '2026-01-01T01:00:00+01:00', true], // same instant
  ['DateEquals', '2026-01-01', '2026-01-01T00:00:00Z', true],
  ['DateEquals', '1767225600', '2026-01-01T00:00:00Z', true], // epoch seconds
  ['DateNotEquals', '2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', true],
  ['DateNotEquals', '2026-01-01T00:00:00Z', undefined, true],
  ['DateLessThan', '2026-06-01T00:00:00Z', '2026-05-31T23:59:59Z', true],
  ['DateLessThan', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', false],
  ['DateLessThanEquals', '2026-06-01T00:00:00Z', '2026-06-01T00:00:00Z', true],
  ['DateGreaterThan', '2026-01-01T00:00:00Z', '2026-11-24T12:00:00Z', true],
  ['DateGreaterThan', '2026-01-01T00:00:00Z', '2025-11-24T12:00:00Z', false],
  ['DateGreaterThanEquals', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00.000Z', true],
  ['DateGreaterThan', '2026-01-01T00:00:00Z', 'yesterday', false], // not comparable
  ['DateGreaterThan', '2026-01-01T00:00:00Z', undefined, false],
]);

table('Bool', 'aws:SecureTransport', [
  ['Bool', 'true', 'true', true],
  ['Bool', 'true', 'TRUE', true],
  ['Bool', true, 'true', true],
  ['Bool', 'false', 'true', false],
  ['Bool', 'false', 'false', true],
  ['Bool', 'false', 'no', false],
  ['Bool', 'false', undefined, false],
  ['BoolIfExists', 'false', undefined, true],
]);

table('BinaryEquals', 'mygw:blob', [
  ['BinaryEquals', 'QmluYXJ5', 'QmluYXJ5', true],
  ['BinaryEquals', 'QmluYXJ5', 'QmluYXJ6', false],
  ['BinaryEquals', 'QmluYXJ5', undefined, false],
]);

table('IpAddress and NotIpAddress', 'aws:SourceIp', [
  ['IpAddress', '10.0.0.0/8', '10.1.2.3', true],
  ['IpAddress', '10.0.0.0/8', '11.1.2.3', false],
  ['IpAddress', ['192.168.1.0/24', '10.0.0.0/8'], '10.1.2.3', true],
  ['IpAddress', '203.0.113.7', '203.0.113.7', true], // bare address = /32
  ['IpAddress', '203.0.113.7', '203.0.113.8', false],
  ['IpAddress', '0.0.0.0/0', '8.8.8.8', true],
  ['IpAddress', '10.1.2.3/8', '10.9.9.9', true], // host bits in the block are ignored
  ['IpAddress', '2001:db8::/32', '2001:db8:1::5', true],
  ['IpAddress', '2001:DB8::/32', '2001:db8::1', true],
  ['IpAddress', '2001:db8::/32', '2001:db9::1', false],
  ['IpAddress', '2001:db8::1', '2001:0db8:0:0:0:0:0:1', true], // compared as numbers, not text
  ['IpAddress', '10.0.0.0/8', '::ffff:10.1.2.3', true], // IPv4-mapped IPv6 is the IPv4 host
  ['IpAddress', '10.0.0.0/8', '2001:db8::1', false], // other family
  ['IpAddress', '10.0.0.0/8', 'not-an-ip', false],
  ['IpAddress', '10.0.0.0/8', '010.1.2.3', false], // leading zeros are not accepted
  ['IpAddress', '10.0.0.0/8', undefined, false],
  ['NotIpAddress', '10.0.0.0/8', '8.8.8.8', true],
  ['NotIpAddress', '10.0.0.0/8', '10.1.2.3', false],
  ['NotIpAddress', ['10.0.0.0/8', '192.168.0.0/16'], '192.168.1.1', false],
  ['NotIpAddress', '10.0.0.0/8', '::ffff:10.1.2.3', false],
  ['NotIpAddress', '10.0.0.0/8', '2001:db8::1', true],
  ['NotIpAddress', '10.0.0.0/8', 'not-an-ip', false], // not comparable: false even when negated
  ['NotIpAddress', '10.0.0.0/8', undefined, true],
]);

table('ARN operators', 'aws:PrincipalArn', [
  ['ArnEquals', 'arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/alice', true],
  ['ArnEquals', 'arn:aws:iam::111122223333:user/*', 'arn:aws:iam::111122223333:user/alice', true], // same as ArnLike
  ['ArnLike', 'arn:aws:iam::*:role/*', 'arn:aws:iam::444455556666:role/deploy', true],
  ['ArnLike', 'arn:aws:iam::*:role/*', 'arn:aws:iam::444455556666:user/deploy', false],
  ['ArnLike', 'arn:aws:iam::1111*:*', 'arn:aws:iam::111122223333:user/a:b', true], // the resource field keeps its colons
  ['ArnLike', 'arn:aws:*:*:*:*', 'arn:aws:iam::1:x', true],
  ['ArnLike', 'arn:aws:iam::111122223333:user/*', 'arn:aws:iam::111122223333:USER/alice', false], // case-sensitive
]);

table('ARN operators, negated and missing', 'aws:SourceArn', [
  ['ArnNotEquals', 'arn:aws:sns:*:111122223333:topic', 'arn:aws:sns:us-east-1:111122223333:topic', false],
  ['ArnNotLike', 'arn:aws:sns:*:111122223333:*', 'arn:aws:sqs:us-east-1:111122223333:q', true],
  ['ArnNotLike', 'arn:aws:sns:*:111122223333:*', undefined, true],
  ['ArnNotLike', 'arn:aws:sns:*:111122223333:*', 'not-an-arn', false], // not comparable
  ['ArnLike', 'arn:aws:sns:*:111122223333:*', undefined, false],
]);

test('a * in an ARN field does not run across a colon into the next field', () => {
  assert.equal(holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:us-*:111122223333:t' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:111122223333:t' }), true);
  // A whole-string glob would let us-* swallow "us-east-1:x"; field by field, the account field is "x".
  assert.equal(holds({ ArnLike: { 'aws:SourceArn': 'arn:aws:sns:us-*:111122223333:t' } }, { 'aws:SourceArn': 'arn:aws:sns:us-east-1:x:111122223333:t' }), false);
});

table('Null', 'aws:TokenIssueTime', [
  ['Null', 'true', undefined, true],
  ['Null', 'true', '2026-01-01T00:00:00Z', false],
  ['Null', 'false', '2026-01-01T00:00:00Z', true],
  ['Null', 'false', undefined, false],
  ['Null', true, undefined, true],
  ['Null', ['true', 'false'], undefined, true],
  ['Null', 'false', [], true], // an empty list is still present
]);

table('IfExists', 'aws:PrincipalTag/team', [
  ['StringEqualsIfExists', 'pets', undefined, true],
  ['StringEqualsIfExists', 'pets', 'pets', true],
  ['StringEqualsIfExists', 'pets', 'cats', false],
  ['StringNotEqualsIfExists', 'pets', undefined, true],
  ['StringNotEqualsIfExists', 'pets', 'pets', false],
  ['NumericLessThanIfExists', '3', undefined, true],
  ['IpAddressIfExists', '10.0.0.0/8', undefined, true],
  ['stringequalsifexists', 'pets', undefined, true], // operator names are case-insensitive
]);

table('ForAnyValue and ForAllValues', 'aws:TagKeys', [
  ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'b'], true],
  ['ForAnyValue:StringEquals', ['a', 'b'], ['x', 'y'], false],
  ['ForAnyValue:StringEquals', ['a', 'b'], [], false], // empty set: false
  ['ForAnyValue:StringEquals', ['a', 'b'], undefined, false], // missing key: false
  ['ForAnyValue:StringEquals', ['a', 'b'], 'a', true], // a single value is a one-element set
  ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'b'], true],
  ['ForAllValues:StringEquals', ['a', 'b'], ['a', 'x'], false],
  ['ForAllValues:StringEquals', ['a', 'b'], [], true], // empty set: true
  ['ForAllValues:StringEquals', ['a', 'b'], undefined, true], // missing key: true (dangerous with Allow)
  ['ForAllValues:StringLike', ['a*'], ['ab', 'ac'], true],
  ['ForAnyValue:StringNotEquals', ['a', 'b'], ['a', 'x'], true], // x is none of them
  ['ForAnyValue:StringNotEquals', ['a', 'b'], ['a', 'b'], false],
  ['ForAllValues:StringNotEquals', ['a', 'b'], ['x', 'y'], true], // none of the request values is listed
  ['ForAllValues:StringNotEquals', ['a', 'b'], ['x', 'a'], false],
  ['ForAnyValue:StringEqualsIfExists', ['a'], undefined, false], // set operators ignore IfExists
  ['ForAllValues:StringEqualsIfExists', ['a'], undefined, true],
  ['ForAnyValue:NumericGreaterThan', '10', ['5', '11'], true],
  ['ForAllValues:NumericGreaterThan', '10', ['5', '11'], false],
  ['ForAnyValue:IpAddress', '10.0.0.0/8', ['8.8.8.8', '10.0.0.1'], true],
  ['forallvalues:stringequals', ['a'], ['a'], true],
]);

test('a single-valued operator never matches a multivalued key, negated or not: a set operator is required', () => {
  for (const op of ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIfExists']) {
    assert.equal(holds({ [op]: { 'aws:TagKeys': 'z' } }, { 'aws:TagKeys': ['a', 'b'] }), false, op);
  }
});

test('AND between operators and between keys, OR between values', () => {
  const c = { StringEquals: { 'aws:PrincipalTag/team': ['pets', 'cats'], 'aws:username': 'alice' }, Bool: { 'aws:SecureTransport': 'true' } };
  const ctx = { 'aws:PrincipalTag/team': 'cats', 'aws:username': 'alice', 'aws:SecureTransport': 'true' };
  assert.equal(holds(c, ctx), true);
  assert.equal(holds(c, { ...ctx, 'aws:username': 'bob' }), false);
  assert.equal(holds(c, { ...ctx, 'aws:SecureTransport': 'false' }), false);
  assert.equal(holds(c, { ...ctx, 'aws:PrincipalTag/team': 'dogs' }), false);
});

test('condition keys are case-insensitive on both sides', () => {
  assert.equal(holds({ StringEquals: { 'AWS:PrincipalTag/Team': 'pets' } }, { 'aws:principaltag/team': 'pets' }), true);
  assert.equal(holds({ StringEquals: { 'aws:principaltag/team': 'pets' } }, { 'AWS:PRINCIPALTAG/TEAM': 'pets' }), true);
  // ...but values are not, except for the IgnoreCase operators
  assert.equal(holds({ StringEquals: { 'aws:username': 'Alice' } }, { 'aws:username': 'alice' }), false);
});

test('policy variables in condition values, with defaults and escapes', () => {
  const ctx = { 'aws:username': 'alice', 'mygw:owner': 'alice' };
  assert.equal(holds({ StringEquals: { 'mygw:owner': '${aws:username}' } }, ctx), true);
  assert.equal(holds({ StringEquals: { 'mygw:owner': '${aws:username}' } }, { ...ctx, 'aws:username': 'bob' }), false);
  assert.equal(holds({ StringLike: { 'mygw:path': 'home/${aws:username}/*' } }, { ...ctx, 'mygw:path': 'home/alice/x' }), true);
  // A wildcard inside a variable's value is literal, not a wildcard.
  assert.equal(holds({ StringLike: { 'mygw:path': 'home/${aws:username}' } }, { 'aws:username': '*', 'mygw:path': 'home/bob' }), false);
  assert.equal(holds({ StringLike: { 'mygw:path': 'home/${aws:username}' } }, { 'aws:username': '*', 'mygw:path': 'home/*' }), true);
  // Defaults apply when the key is missing (or empty, or multivalued).
  const d = { StringEquals: { 'mygw:team': "${aws:PrincipalTag/team, 'company-wide'}" } };
  assert.equal(holds(d, { 'mygw:team': 'company-wide' }), true);
  assert.equal(holds(d, { 'mygw:team': 'company-wide', 'aws:PrincipalTag/team': '' }), true);
  assert.equal(holds(d, { 'mygw:team': 'company-wide', 'aws:PrincipalTag/team': ['a', 'b'] }), true);
  assert.equal(holds(d, { 'mygw:team': 'company-wide', 'aws:PrincipalTag/team': 'pets' }), false);
  // Escapes.
  assert.equal(holds({ StringEquals: { 'mygw:x': 'a${*}b${?}c${$}' } }, { 'mygw:x': 'a*b?c$' }), true);
  assert.equal(holds({ StringLike: { 'mygw:x': 'a${*}' } }, { 'mygw:x': 'abc' }), false);
  assert.equal(holds({ StringLike: { 'mygw:x': 'a${*}' } }, { 'mygw:x': 'a*' }), true);
  // Variables in ARN and Bool values.
  assert.equal(holds({ ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/${aws:username}' } }, { ...ctx, 'aws:PrincipalArn': 'arn:aws:iam::1:user/alice' }), true);
  assert.equal(holds({ Bool: { 'aws:SecureTransport': '${mygw:want}' } }, { 'mygw:want': 'true', 'aws:SecureTransport': 'true' }), true);
});

test('a variable with no value: positive operators do not match, negated operators do (AWS docs)', () => {
  const ctx = { 'mygw:owner': 'alice' };
  assert.equal(holds({ StringEquals: { 'mygw:owner': '${aws:username}' } }, ctx), false);
  assert.equal(holds({ StringLike: { 'mygw:owner': '${aws:username}*' } }, ctx), false);
  assert.equal(holds({ StringNotEquals: { 'mygw:owner': '${aws:username}' } }, ctx), true);
  assert.equal(holds({ StringNotLike: { 'mygw:owner': '${aws:username}' } }, ctx), true);
  assert.equal(holds({ StringNotEquals: { 'mygw:owner': ['${aws:username}', 'alice'] } }, ctx), false);
  assert.equal(holds({ ArnNotLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:user/${aws:username}' } }, { 'aws:PrincipalArn': 'arn:aws:iam::1:user/x' }), true);
});

test('the ConditionContext may be a lazy getter', () => {
  const asked: string[] = [];
  const r = parsePolicy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { StringEquals: { 'AWS:UserName': 'alice' } } } }, { kind: 'identity' });
  assert.ok(r.ok);
  const d = evaluate([r.policy], { action: 'x:y', resource: RES, context: (k) => { asked.push(k); return k === 'aws:username' ? 'alice' : undefined; } });
  assert.equal(d.decision, 'Allow');
  assert.deepEqual(asked, ['aws:username']);
});

test('operator names: prefixes, suffixes and suggestions', () => {
  const ok = parseOperatorName('ForAllValues:StringLikeIfExists');
  assert.ok(typeof ok !== 'string' && ok.set === 'all' && ok.ifExists && ok.info.name === 'StringLike');
  assert.match(parseOperatorName('StringEqual') as string, /did you mean "StringEquals"/);
  assert.match(parseOperatorName('NullIfExists') as string, /cannot take the IfExists suffix/);
  assert.match(parseOperatorName('ForAnyValue:Null') as string, /cannot take a ForAnyValue/);
  assert.match(parseOperatorName('Frobnicate') as string, /^unknown condition operator "Frobnicate"$/);
});

// Tests for parsePolicy's validation: every problem has a JSON path and a readable reason; plus size limits,
// Version/variable rules, duplicate JSON keys and the execute-api shorthand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConditionContext, evaluate, parsePolicy, type ParseOptions, type Problem } from './index.ts';
import { childPath, findDuplicateKeys } from './parse.ts';

const ID = { kind: 'identity' } as const;
const RP = { kind: 'resource' } as const;
const ARN = 'arn:aws:execute-api:us-east-1:111122223333:abc123/*';

function problems(doc: unknown, options: ParseOptions = ID): Problem[] {
  const r = parsePolicy(doc, options);
  assert.equal(r.ok, false, 'expected problems');
  return r.ok ? [] : [...r.problems];
}

function stmt(s: Record<string, unknown>, kind: 'identity' | 'resource' = 'identity') {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: ARN, ...(kind === 'resource' ? { Principal: '*' } : {}), ...s }] };
}

/** [description, document, options, expected path, message fragment] */
const CASES: [string, unknown, ParseOptions, string, RegExp][] = [
  ['not JSON', '{"Version": ', ID, '', /not valid JSON/],
  ['not an object', [], ID, '', /must be a JSON object, not a list/],
  ['unknown top-level element', { Version: '2012-10-17', Statement: [], Foo: 1 }, ID, 'Foo', /unknown policy element "Foo"/],
  ['bad Version', { Version: '2012-10-18', Statement: stmt({}).Statement }, ID, 'Version', /must be "2012-10-17".*not "2012-10-18"/],
  ['missing Statement', { Version: '2012-10-17' }, ID, '', /missing "Statement"/],
  ['empty Statement list', { Version: '2012-10-17', Statement: [] }, ID, 'Statement', /at least one statement/],
  ['statement not an object', { Version: '2012-10-17', Statement: ['x'] }, ID, 'Statement[0]', /must be an object, not string/],
  ['missing Effect', stmt({ Effect: undefined }), ID, 'Statement[0]', /missing "Effect"/],
  ['bad Effect', stmt({ Effect: 'allow' }), ID, 'Statement[0].Effect', /"Allow" or "Deny" \(case-sensitive\), not "allow"/],
  ['unknown statement element', stmt({ Resources: ARN }), ID, 'Statement[0].Resources', /unknown statement element "Resources"/],
  ['Action and NotAction', stmt({ NotAction: 'x:y' }), ID, 'Statement[0]', /both Action and NotAction/],
  ['no Action', stmt({ Action: undefined }), ID, 'Statement[0]', /missing "Action"/],
  ['Resource and NotResource', stmt({ NotResource: '*' }), ID, 'Statement[0]', /both Resource and NotResource/],
  ['no Resource', stmt({ Resource: undefined }), ID, 'Statement[0]', /missing "Resource"/],
  ['empty Action list', stmt({ Action: [] }), ID, 'Statement[0].Action', /must not be an empty list/],
  ['Action not a string', stmt({ Action: ['x:y', 3] }), ID, 'Statement[0].Action[1]', /must be strings, not number 3/],
  ['Action without service', stmt({ Action: 'Invoke' }), ID, 'Statement[0].Action', /not an action: write service:Action/],
  ['wildcard in service prefix', stmt({ Action: 'execute-*:Invoke' }), ID, 'Statement[0].Action', /not allowed in the service prefix/],
  ['variable in Action', stmt({ Action: 'execute-api:${aws:username}' }), ID, 'Statement[0].Action', /not allowed in Action/],
  ['Resource not an ARN', stmt({ Resource: ['*', 'abc123/*'] }), ID, 'Statement[0].Resource[1]', /must be "\*" or an ARN with six/],
  ['upper-case region', stmt({ Resource: 'arn:aws:execute-api:US-EAST-1:111122223333:abc/*' }), ID, 'Statement[0].Resource', /region "US-EAST-1" must be lower case/],
  ['variable before the resource part', stmt({ Resource: 'arn:aws:execute-api:us-east-1:${aws:PrincipalAccount}:abc/*' }), ID, 'Statement[0].Resource', /only in the resource part, after the fifth colon/],
  ['malformed variable', stmt({ Resource: 'arn:aws:execute-api:us-east-1:1:abc/${aws:user name, x}' }), ID, 'Statement[0].Resource', /not a valid policy variable/],
  ['unterminated variable', stmt({ Resource: 'arn:aws:execute-api:us-east-1:1:abc/${aws:username' }), ID, 'Statement[0].Resource', /unterminated policy variable/],
  ['variable with Version 2008', { Version: '2008-10-17', Statement: stmt({ Resource: 'arn:aws:execute-api:us-east-1:1:abc/${aws:username}' }).Statement }, ID, 'Statement[0].Resource', /only with "Version": "2012-10-17"/],
  ['variable with no Version', { Statement: stmt({ Condition: { StringEquals: { 'aws:username': '${aws:PrincipalTag/u}' } } }).Statement }, ID, 'Statement[0].Condition.StringEquals["aws:username"]', /only with "Version": "2012-10-17"/],
  ['Principal in an identity policy', stmt({ Principal: '*' }), ID, 'Statement[0].Principal', /identity policies cannot have Principal/],
  ['no Principal in a resource policy', stmt({ Principal: undefined }, 'resource'), RP, 'Statement[0]', /needs Principal/],
  ['Principal and NotPrincipal', stmt({ NotPrincipal: { AWS: '111122223333' } }, 'resource'), RP, 'Statement[0]', /both Principal and NotPrincipal/],
  ['Service principal', stmt({ Principal: { Service: 'lambda.amazonaws.com' } }, 'resource'), RP, 'Statement[0].Principal.Service', /"Service" principals are not supported/],
  ['partial wildcard principal', stmt({ Principal: { AWS: ['arn:aws:iam::111122223333:user/*'] } }, 'resource'), RP, 'Statement[0].Principal.AWS[0]', /wildcards are not allowed in principals/],
  ['garbage principal', stmt({ Principal: { AWS: 'alice' } }, 'resource'), RP, 'Statement[0].Principal.AWS', /is not an AWS principal/],
  ['Principal not an object', stmt({ Principal: 7 }, 'resource'), RP, 'Statement[0].Principal', /must be "\*" or \{"AWS"/],
  ['duplicate Sid', { Version: '2012-10-17', Statement: [stmt({ Sid: 'A' }).Statement[0], stmt({ Sid: 'A' }).Statement[0]] }, ID, 'Statement[1].Sid', /Sid "A" is already used by Statement\[0\]/],
  ['Condition not an object', stmt({ Condition: [] }), ID, 'Statement[0].Condition', /must be an object/],
  ['unknown operator', stmt({ Condition: { StringEqual: { 'aws:username': 'a' } } }), ID, 'Statement[0].Condition.StringEqual', /did you mean "StringEquals"/],
  ['empty operator block', stmt({ Condition: { StringEquals: {} } }), ID, 'Statement[0].Condition.StringEquals', /non-empty object/],
  ['bad condition key', stmt({ Condition: { StringEquals: { username: 'a' } } }), ID, 'Statement[0].Condition.StringEquals.username', /not a condition key/],
  ['no values', stmt({ Condition: { StringEquals: { 'aws:username': [] } } }), ID, 'Statement[0].Condition.StringEquals["aws:username"]', /at least one value/],
  ['object value', stmt({ Condition: { StringEquals: { 'aws:username': [{}] } } }), ID, 'Statement[0].Condition.StringEquals["aws:username"][0]', /strings, numbers or booleans, not an object/],
  ['bad CIDR', stmt({ Condition: { IpAddress: { 'aws:SourceIp': ['10.0.0.0/8', '10.0.0.0/33'] } } }), ID, 'Statement[0].Condition.IpAddress["aws:SourceIp"][1]', /invalid prefix length: it must be 0 to 32/],
  ['not an address', stmt({ Condition: { NotIpAddress: { 'aws:SourceIp': 'ten.0.0.0/8' } } }), ID, 'Statement[0].Condition.NotIpAddress["aws:SourceIp"]', /not an IPv4 or IPv6 address or CIDR block/],
  ['bad IPv6 prefix', stmt({ Condition: { IpAddress: { 'aws:SourceIp': ['2001:db8::/129'] } } }), ID, 'Statement[0].Condition.IpAddress["aws:SourceIp"][0]', /0 to 128/],
  ['bad date', stmt({ Condition: { DateGreaterThan: { 'aws:CurrentTime': ['2026-13-01T00:00:00Z'] } } }), ID, 'Statement[0].Condition.DateGreaterThan["aws:CurrentTime"][0]', /needs a W3C ISO 8601 date/],
  ['impossible date', stmt({ Condition: { DateLessThan: { 'aws:CurrentTime': '2026-02-30' } } }), ID, 'Statement[0].Condition.DateLessThan["aws:CurrentTime"]', /W3C ISO 8601/],
  ['non-numeric', stmt({ Condition: { NumericLessThan: { 'mygw:n': ['1', '1e3'] } } }), ID, 'Statement[0].Condition.NumericLessThan["mygw:n"][1]', /integer or decimal number, not "1e3"/],
  ['bad Bool', stmt({ Condition: { Bool: { 'aws:SecureTransport': 'yes' } } }), ID, 'Statement[0].Condition.Bool["aws:SecureTransport"]', /Bool takes "true" or "false", not "yes"/],
  ['bad Null', stmt({ Condition: { Null: { 'aws:TokenIssueTime': 'maybe' } } }), ID, 'Statement[0].Condition.Null["aws:TokenIssueTime"]', /Null takes "true"/],
  ['bad base64', stmt({ Condition: { BinaryEquals: { 'mygw:b': 'abc' } } }), ID, 'Statement[0].Condition.BinaryEquals["mygw:b"]', /base64/],
  ['bad ARN value', stmt({ Condition: { ArnLike: { 'aws:SourceArn': 'sns:topic' } } }), ID, 'Statement[0].Condition.ArnLike["aws:SourceArn"]', /six colon-separated fields/],
  ['variable in a numeric value', stmt({ Condition: { NumericEquals: { 'mygw:n': '${mygw:m}' } } }), ID, 'Statement[0].Condition.NumericEquals["mygw:n"]', /integer or decimal number/],
  ['set operator on Null', stmt({ Condition: { 'ForAnyValue:Null': { 'aws:TagKeys': 'true' } } }), ID, 'Statement[0].Condition["ForAnyValue:Null"]', /Null operator cannot take/],
  ['shorthand in an identity policy', stmt({ Resource: 'execute-api:/*' }), ID, 'Statement[0].Resource', /only expanded in resource policies/],
  ['shorthand without the API', stmt({ Resource: 'execute-api:/prod/GET/*' }, 'resource'), RP, 'Statement[0].Resource', /needs the API's region, account and id/],
  ['single statement object path', { Version: '2012-10-17', Statement: { Effect: 'Maybe', Action: '*', Resource: '*' } }, ID, 'Statement.Effect', /"Allow" or "Deny"/],
  ['duplicate JSON key', '{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"*","Resource":"*","Effect":"Allow"}}', ID, 'Statement.Effect', /appears twice in the same object/],
];

for (const [name, doc, options, path, message] of CASES) {
  test(`parse problem: ${name}`, () => {
    const ps = problems(doc, options);
    const hit = ps.find((p) => p.path === path && message.test(p.message));
    assert.ok(hit, `expected a problem at ${JSON.stringify(path)} matching ${message}; got ${JSON.stringify(ps, null, 1)}`);
  });
}

test('all problems are reported at once, not just the first', () => {
  const ps = problems({ Version: '2012-10-17', Statement: [{ Effect: 'Allw', Action: 'x', Resource: 'y' }, { Effect: 'Allow' }] });
  assert.deepEqual(ps.map((p) => p.path).sort(), ['Statement[0].Action', 'Statement[0].Effect', 'Statement[0].Resource', 'Statement[1]', 'Statement[1]'].sort());
});

test('resource policies are limited to 8192 characters, whitespace not counted', () => {
  const big = (n: number) => ({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: `${ARN.slice(0, -1)}${'a'.repeat(n)}` }] });
  const size = (n: number) => JSON.stringify(big(n)).length;
  const fits = 8192 - size(0);
  assert.equal(size(fits), 8192);
  assert.ok(parsePolicy(big(fits), RP).ok);
  // Pretty-printing does not count against the limit.
  assert.ok(parsePolicy(JSON.stringify(big(fits), null, 4), RP).ok);
  const ps = problems(big(fits + 1), RP);
  assert.match(ps[0]!.message, /8193 characters long without whitespace; resource policies may have at most 8192/);
  // Identity policies have no default limit, but one can be given.
  assert.ok(parsePolicy({ ...big(fits + 1), Statement: [{ ...big(fits + 1).Statement[0], Principal: undefined }] }, ID).ok);
  assert.match(problems(stmt({}), { kind: 'identity', maxChars: 50 })[0]!.message, /at most 50/);
});

test('Version: 2012-10-17 or 2008-10-17; missing means 2008-10-17', () => {
  const r = parsePolicy({ Statement: stmt({}).Statement }, ID);
  assert.ok(r.ok && r.policy.version === '2008-10-17');
  const r2 = parsePolicy({ Version: '2008-10-17', Statement: stmt({}).Statement }, ID);
  assert.ok(r2.ok && r2.policy.version === '2008-10-17');
});

test('Id names the policy in decisions; options.policyId overrides it', () => {
  const doc = { Version: '2012-10-17', Id: 'doc-id', Statement: [{ Sid: 'S', Effect: 'Allow', Action: '*', Resource: '*' }] };
  const ctx = createConditionContext({});
  const a = parsePolicy(doc, ID);
  const b = parsePolicy(doc, { ...ID, policyId: 'given' });
  assert.ok(a.ok && b.ok);
  assert.deepEqual(evaluate([a.policy], { action: 'x:y', resource: ARN, context: ctx }).statement, { policyId: 'doc-id', sid: 'S', index: 0 });
  assert.deepEqual(evaluate([b.policy], { action: 'x:y', resource: ARN, context: ctx }).statement, { policyId: 'given', sid: 'S', index: 0 });
});

test('the execute-api shorthand expands to full ARNs of the API when a resource policy is compiled', () => {
  const api = { region: 'eu-west-1', accountId: '111122223333', apiId: 'abc123' };
  const r = parsePolicy({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: '*', Action: 'execute-api:Invoke', Resource: 'execute-api:/prod/GET/pets/*' },
      { Effect: 'Deny', Principal: '*', Action: 'execute-api:Invoke', Resource: ['execute-api:/*/DELETE/*'] },
    ],
  }, { kind: 'resource', api });
  assert.ok(r.ok);
  const at = (p: string) => evaluate([r.policy], { action: 'execute-api:Invoke', resource: `arn:aws:execute-api:eu-west-1:111122223333:abc123/${p}`, context: new Map() }).decision;
  assert.equal(at('prod/GET/pets/1'), 'Allow');
  assert.equal(at('prod/DELETE/pets/1'), 'ExplicitDeny');
  assert.equal(at('test/GET/pets/1'), 'ImplicitDeny');
  const other = evaluate([r.policy], { action: 'execute-api:Invoke', resource: 'arn:aws:execute-api:eu-west-1:111122223333:zzz999/prod/GET/pets/1', context: new Map() });
  assert.equal(other.decision, 'ImplicitDeny');
});

test('condition values may be JSON numbers and booleans', () => {
  assert.ok(parsePolicy(stmt({ Condition: { NumericEquals: { 'mygw:n': 5 }, Bool: { 'aws:SecureTransport': true } } }), ID).ok);
});

test('childPath quotes keys that are not identifiers', () => {
  assert.equal(childPath('', 'Statement'), 'Statement');
  assert.equal(childPath('Statement', 0), 'Statement[0]');
  assert.equal(childPath('A.Condition', 'ForAnyValue:StringLike'), 'A.Condition["ForAnyValue:StringLike"]');
});

test('findDuplicateKeys walks nested objects and arrays', () => {
  assert.deepEqual(findDuplicateKeys('{"a":[{"b":1,"b":2}],"c":{"d":"}\\"","d":3}}').map((p) => p.path), ['a[0].b', 'c.d']);
  assert.deepEqual(findDuplicateKeys('{"a":1,"b":[1,2,{}],"c":"x"}'), []);
});

test('hostile documents are refused with a problem, not an exception', () => {
  const deep = `{"Version":"2012-10-17","Statement":${'['.repeat(5000)}${']'.repeat(5000)}}`;
  const r = parsePolicy(deep, ID);
  assert.equal(r.ok, false);
  assert.ok(!r.ok && r.problems.some((p) => /nested more than 32 levels/.test(p.message)));
  const cyclic: Record<string, unknown> = { Version: '2012-10-17' };
  cyclic.Statement = cyclic;
  assert.equal(parsePolicy(cyclic, RP).ok, false);
  // A long run of spaces in a variable must not make the parser crawl.
  const t0 = performance.now();
  parsePolicy(stmt({ Resource: `arn:aws:execute-api:us-east-1:1:abc/\${aws:x${' '.repeat(8000)}!}` }), ID);
  assert.ok(performance.now() - t0 < 200);
  const proto = parsePolicy('{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"__proto__":{"aws:x":"y"}}}}', ID);
  assert.ok(!proto.ok && /unknown condition operator "__proto__"/.test(proto.problems[0]!.message));
});

test('variable syntax: spaces around the key and the default are allowed', () => {
  for (const v of ['${aws:username}', '${ aws:username }', "${aws:PrincipalTag/cost center, 'x'}", "${aws:username,'x'}"]) {
    assert.ok(parsePolicy(stmt({ Resource: `arn:aws:execute-api:us-east-1:1:abc/${v}` }), ID).ok, v);
  }
  for (const v of ['${}', '${ }', "${aws:username, x}", "${aws:username, 'x', 'y'}", '${a$b}']) {
    assert.equal(parsePolicy(stmt({ Resource: `arn:aws:execute-api:us-east-1:1:abc/${v}` }), ID).ok, false, v);
  }
});

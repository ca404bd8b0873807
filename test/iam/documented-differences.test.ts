// Every known disagreement between our engine and @cloud-copilot/iam-simulate, pinned on both sides so a change
// in either shows up. Each test is numbered like its entry in docs/iam-differences.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createConditionContext, evaluate, parsePolicy, type Decision } from '../../src/security/iam/index.ts';
import { oracle } from './oracle.ts';

const ACCT = '111122223333';
const API = `arn:aws:execute-api:us-east-1:${ACCT}:abc123`;
const RESOURCE = `${API}/prod/GET/pets/42`;
const USER = `arn:aws:iam::${ACCT}:user/alice`;

interface Probe {
  readonly statement: Record<string, unknown>;
  readonly context?: Record<string, string | string[]>;
  readonly resource?: string;
  readonly version?: string;
}

function both(p: Probe): { ours: Decision; oracle: Decision } {
  const defaults = 'NotResource' in p.statement ? { Effect: 'Allow', Action: '*' } : { Effect: 'Allow', Action: '*', Resource: '*' };
  const doc = { Version: p.version ?? '2012-10-17', Statement: [{ ...defaults, ...p.statement }] };
  const r = parsePolicy(doc, { kind: 'identity' });
  if (!r.ok) throw new Error(JSON.stringify(r.problems));
  const resource = p.resource ?? RESOURCE;
  const context = p.context ?? {};
  return {
    ours: evaluate([r.policy], { principal: { arn: USER }, action: 'execute-api:Invoke', resource, context: createConditionContext(context) }).decision,
    oracle: oracle({ principal: USER, action: 'execute-api:Invoke', resource, context, identityPolicies: [doc] }),
  };
}

const cond = (c: Record<string, unknown>, context: Record<string, string | string[]>): Probe => ({ statement: { Condition: c }, context });

test('D1: a negated operator with a policy variable that has no value matches (AWS docs); the oracle does not', () => {
  assert.deepEqual(both(cond({ StringNotEquals: { 'mygw:owner': '${aws:username}' } }, { 'mygw:owner': 'alice' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ StringNotLike: { 'mygw:owner': '${aws:PrincipalTag/team}*' } }, { 'mygw:owner': 'alice' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  // Positive operators agree: no match.
  assert.deepEqual(both(cond({ StringEquals: { 'mygw:owner': '${aws:username}' } }, { 'mygw:owner': 'alice' })), { ours: 'ImplicitDeny', oracle: 'ImplicitDeny' });
});

test('D2: ${*} ${?} ${$} under StringEquals-family operators stand for the character; the oracle reads them literally', () => {
  assert.deepEqual(both(cond({ StringEquals: { 'mygw:x': 'a${*}' } }, { 'mygw:x': 'a*' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ StringEquals: { 'mygw:x': 'a${*}' } }, { 'mygw:x': 'a${*}' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
  assert.deepEqual(both(cond({ StringNotEqualsIgnoreCase: { 'mygw:x': 'a${?}c' } }, { 'mygw:x': 'A?C' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
  // Under StringLike both read the escape as the literal character.
  assert.deepEqual(both(cond({ StringLike: { 'mygw:x': 'a${*}' } }, { 'mygw:x': 'a*' })), { ours: 'Allow', oracle: 'Allow' });
});

test('D3: 0.0.0.0/0 contains every IPv4 address; the oracle\'s 32-bit shift makes it match 0.0.0.0 only', () => {
  assert.deepEqual(both(cond({ IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '8.8.8.8' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ NotIpAddress: { 'aws:SourceIp': '0.0.0.0/0' } }, { 'aws:SourceIp': '8.8.8.8' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
  assert.deepEqual(both(cond({ IpAddress: { 'aws:SourceIp': '::/0' } }, { 'aws:SourceIp': '2001:db8::1' })), { ours: 'Allow', oracle: 'Allow' });
});

test('D4: an IPv4-mapped IPv6 caller (::ffff:a.b.c.d) is the IPv4 host; the oracle treats it as IPv6', () => {
  assert.deepEqual(both(cond({ IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '::ffff:10.1.2.3' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  // The security-relevant direction: a Deny on "not our network" must not fire for an internal caller.
  assert.deepEqual(both(cond({ NotIpAddress: { 'aws:SourceIp': '10.0.0.0/8' } }, { 'aws:SourceIp': '::ffff:10.1.2.3' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
});

test('D5: a bare address is a /32 or /128 block compared as a number; the oracle compares text', () => {
  assert.deepEqual(both(cond({ IpAddress: { 'aws:SourceIp': '2001:db8::1' } }, { 'aws:SourceIp': '2001:0DB8:0::1' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ NotIpAddress: { 'aws:SourceIp': '2001:db8::1' } }, { 'aws:SourceIp': '10.1.2.3' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ NotIpAddress: { 'aws:SourceIp': '2001:db8::1/128' } }, { 'aws:SourceIp': '10.1.2.3' })), { ours: 'Allow', oracle: 'Allow' });
});

test('D6: numeric request values must be whole numbers; the oracle reads "8.8.8.8" as 8.8 and "12abc" as 12', () => {
  assert.deepEqual(both(cond({ NumericGreaterThan: { 'aws:SourceIp': '8' } }, { 'aws:SourceIp': '8.8.8.8' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
  assert.deepEqual(both(cond({ NumericEquals: { 'mygw:n': '12' } }, { 'mygw:n': '12abc' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
  assert.deepEqual(both(cond({ NumericEquals: { 'mygw:n': '12' } }, { 'mygw:n': '12.0' })), { ours: 'Allow', oracle: 'Allow' });
  // Policy values such as 1e3 are refused when the policy is parsed.
  assert.equal(parsePolicy({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: '*', Resource: '*', Condition: { NumericEquals: { 'mygw:n': '1e3' } } } }, { kind: 'identity' }).ok, false);
});

test('D7: dates: epoch seconds and ISO dates compare as instants; only W3C ISO 8601 and epoch seconds are dates', () => {
  // The oracle compares epoch seconds with milliseconds when the two forms meet.
  assert.deepEqual(both(cond({ DateGreaterThan: { 'aws:EpochTime': '2026-01-01T00:00:00Z' } }, { 'aws:EpochTime': '1790000000' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both(cond({ DateLessThan: { 'aws:CurrentTime': '1790000000' } }, { 'aws:CurrentTime': '2026-01-01T00:00:00Z' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
  // Date.parse accepts free text; we do not.
  assert.deepEqual(both(cond({ DateGreaterThan: { 'aws:CurrentTime': '2026-01-01T00:00:00Z' } }, { 'aws:CurrentTime': 'Tue, 24 Nov 2026 12:00:00 GMT' })), { ours: 'ImplicitDeny', oracle: 'Allow' });
});

test('D8: a * in the first segment of the resource part (the API id) is a wildcard; the oracle reads it literally', () => {
  assert.deepEqual(both({ statement: { Resource: `arn:aws:execute-api:us-east-1:${ACCT}:*/prod/GET/*` } }), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both({ statement: { Resource: `arn:aws:execute-api:us-east-1:${ACCT}:abc*/*` } }), { ours: 'Allow', oracle: 'ImplicitDeny' });
  assert.deepEqual(both({ statement: { Resource: `arn:aws:execute-api:us-east-1:${ACCT}:*` } }), { ours: 'Allow', oracle: 'Allow' });
});

test('D9: an empty context value is no value for a variable; in NotResource the oracle keeps the variable text', () => {
  const probe: Probe = {
    statement: { NotResource: `${API}/*/*/teams/\${aws:PrincipalTag/team}` },
    context: { 'aws:PrincipalTag/team': '' },
  };
  assert.deepEqual(both(probe), { ours: 'ImplicitDeny', oracle: 'Allow' });
  // With the key missing both agree: the statement does not apply.
  assert.deepEqual(both({ ...probe, context: {} }), { ours: 'ImplicitDeny', oracle: 'ImplicitDeny' });
});

test('D10: IgnoreCase compares lower-cased strings; the oracle uses a case-insensitive RegExp (Kelvin sign)', () => {
  assert.deepEqual(both(cond({ StringEqualsIgnoreCase: { 'mygw:x': 'k' } }, { 'mygw:x': '\u212A' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
});

test('D11: * and ? match any character, line breaks included; the oracle\'s "." does not', () => {
  assert.deepEqual(both(cond({ StringLike: { 'mygw:x': 'a*b' } }, { 'mygw:x': 'a\nb' })), { ours: 'Allow', oracle: 'ImplicitDeny' });
});

test('D12: documents the oracle evaluates but we refuse at parse time', () => {
  const refused = (statement: Record<string, unknown>, version = '2012-10-17') =>
    !parsePolicy({ Version: version, Statement: [{ Effect: 'Allow', Action: '*', Resource: '*', ...statement }] }, { kind: 'identity' }).ok;
  // Variables outside Version 2012-10-17 (AWS would match the text literally; the oracle substitutes).
  assert.equal(refused({ Resource: `${API}/\${aws:username}` }, '2008-10-17'), true);
  // Upper case in partition, service or region (the oracle matches those fields case-insensitively).
  assert.equal(refused({ Resource: `arn:aws:execute-api:US-EAST-1:${ACCT}:abc123/*` }), true);
  // Short ARNs (the oracle pads identity-policy ones with *).
  assert.equal(refused({ Resource: 'arn:aws:execute-api:us-east-1' }), true);
  // Unknown operators (the oracle evaluates them as false).
  assert.equal(refused({ Condition: { StringEqual: { 'aws:username': 'a' } } }), true);
  // Numbers with exponents, free-text dates.
  assert.equal(refused({ Condition: { DateLessThan: { 'aws:CurrentTime': 'Jan 1 2026' } } }), true);
});

// Seeded random generator of IAM policies, callers and request contexts for the differential tests against
// @cloud-copilot/iam-simulate. Vocabularies are small on purpose so that statements often match.

export const ACCOUNT = '111122223333';
export const OTHER_ACCOUNT = '444455556666';
const BASE = `arn:aws:execute-api:us-east-1:${ACCOUNT}`;

export type Rng = () => number;

/** mulberry32: small, fast, good enough for test generation. */
export function createRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  constructor(readonly r: Rng) {}
  int(lo: number, hi: number): number { return lo + Math.floor(this.r() * (hi - lo + 1)); }
  chance(p: number): boolean { return this.r() < p; }
  pick<T>(xs: readonly T[]): T { return xs[Math.floor(this.r() * xs.length)]!; }
  some<T>(xs: readonly T[], lo: number, hi: number): T[] {
    const n = this.int(lo, hi);
    return Array.from({ length: n }, () => this.pick(xs));
  }
  /** Random letter case, to exercise case-insensitive keys and actions. */
  jumble(s: string): string {
    if (!this.chance(0.3)) return s;
    return [...s].map((c) => (this.chance(0.5) ? c.toUpperCase() : c.toLowerCase())).join('');
  }
}

// ------------------------------------------------------------------------------------------- vocabulary

export const REQUEST_ACTIONS = ['execute-api:Invoke', 'execute-api:Invoke', 'execute-api:Invoke', 'execute-api:InvalidateCache',
  'execute-api:ManageConnections', 'mygw:CallRoute'];

const POLICY_ACTIONS = ['*', 'execute-api:*', 'execute-api:Invoke', 'execute-api:invoke', 'EXECUTE-API:Invoke', 'execute-api:In*',
  'execute-api:?nvoke', 'execute-api:*Cache', 'execute-api:Manage*', 'mygw:*', 'mygw:Call?oute', 'execute-api:*e'];

const STAGES = ['prod', 'test'];
const METHODS = ['GET', 'POST', 'DELETE'];
const PATHS = ['', 'pets', 'pets/42', 'pets/42/toys', 'admin/users', 'alice/profile', 'bob/x', 'pets/4'];

export function requestResource(g: Gen): string {
  if (g.chance(0.05)) return `arn:aws:execute-api:eu-west-1:${ACCOUNT}:abc123/prod/GET/pets`;
  if (g.chance(0.05)) return `${BASE}:xyz789/prod/GET/pets`;
  return `${BASE}:abc123/${g.pick(STAGES)}/${g.pick(METHODS)}/${g.pick(PATHS)}`;
}

const POLICY_RESOURCES = [
  '*', `${BASE}:abc123/*`, `${BASE}:abc123/prod/*`, `${BASE}:abc123/*/GET/*`, `${BASE}:abc123/prod/GET/pets/*`,
  `${BASE}:abc123/*/*/pets/??`, `${BASE}:abc123/prod/GET/pets/4?`, `${BASE}:abc123/prod/GET/`, 'arn:aws:execute-api:*:*:*',
  `arn:aws:execute-api:us-*:${ACCOUNT}:abc123/*`, `arn:aws:execute-api:*:${ACCOUNT}:abc123/*/POST/*`,
  'arn:aws:execute-api:us-east-1:*:abc123/test/*', `${BASE}:abc123/*/GET/\${aws:username}/*`,
  `${BASE}:abc123/*/*/\${aws:PrincipalTag/team, 'pets'}*`, `${BASE}:abc123/*/*/\${aws:PrincipalTag/team}`,
  `${BASE}:xyz789/*`, `${BASE}:abc123/prod/*/admin/*`, `${BASE}:abc123/*/DELETE/*`, `${BASE}:abc123/prod/GET/pets`,
  `${BASE}:abc123/*/*/\${aws:username}/profile`,
];

export const PRINCIPALS_SAME = [
  `arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:user/bob`, `arn:aws:iam::${ACCOUNT}:role/Deploy`,
  `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/session-1`, `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/s2`,
  `arn:aws:iam::${ACCOUNT}:root`, `arn:aws:sts::${ACCOUNT}:federated-user/alice`,
];
export const PRINCIPALS_OTHER = [
  `arn:aws:iam::${OTHER_ACCOUNT}:user/carol`, `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/Reader/s`,
  `arn:aws:iam::${OTHER_ACCOUNT}:root`,
];

const POLICY_PRINCIPALS: unknown[] = [
  '*', '*', '*', { AWS: '*' }, { AWS: '*' }, { AWS: ACCOUNT }, { AWS: `arn:aws:iam::${ACCOUNT}:root` }, { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` },
  { AWS: `arn:aws:iam::${ACCOUNT}:role/Deploy` }, { AWS: `arn:aws:iam::${ACCOUNT}:role/ops/Deploy` },
  { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/session-1` }, { AWS: OTHER_ACCOUNT },
  { AWS: [`arn:aws:iam::${OTHER_ACCOUNT}:user/carol`, ACCOUNT] }, { AWS: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:user/bob`] },
  { AWS: `arn:aws:iam::${OTHER_ACCOUNT}:user/carol` }, { AWS: `arn:aws:iam::${ACCOUNT}:user/alice` },
];

// -------------------------------------------------------------------------------------- condition keys

type KeyType = 'ip' | 'iso' | 'epoch' | 'bool' | 'string' | 'arn' | 'numeric' | 'binary' | 'multi';

interface KeySpec {
  readonly key: string;
  readonly type: KeyType;
  readonly policy: readonly unknown[];
  readonly request: readonly (string | string[])[];
}

const STRING_POLICY = ['pets', 'cats', 'Pets', 'p*', '*ts', 'c?ts', '', 'alice', '${aws:username}', '${aws:PrincipalTag/team}',
  "${aws:PrincipalTag/team, 'pets'}", '${*}', 'a${?}c', 'a?c'];
// No empty strings for keys that policies also use as variables (documented difference: an empty value in a
// NotResource variable); mygw:label carries the empty-string cases.
const STRING_REQUEST = ['pets', 'cats', 'PETS', 'dogs', 'alice', 'a?c', 'abc', '*'];

export const KEYS: readonly KeySpec[] = [
  {
    key: 'aws:SourceIp', type: 'ip',
    // Not generated (documented differences with their own tests): 0.0.0.0/0, and bare addresses without a
    // prefix length under NotIpAddress when the request is of the other family.
    policy: ['10.0.0.0/8', '192.168.1.0/24', '203.0.113.7/32', '2001:db8::/32', '2001:db8:1::/48', '::/0', '10.1.2.3/32',
      '172.16.0.0/12', '2001:db8::1/128', '128.0.0.0/1'],
    request: ['10.1.2.3', '10.200.0.1', '192.168.1.77', '192.168.2.1', '203.0.113.7', '8.8.8.8', '2001:db8::1', '2001:db8:1::5',
      '2001:db9::1', 'not-an-ip', '172.20.1.1'],
  },
  {
    key: 'aws:CurrentTime', type: 'iso',
    policy: ['2026-01-01T00:00:00Z', '2026-06-15T12:30:00Z', '2026-11-24T12:00:00Z', '2026-01-01', '2025-12-31T23:59:59Z',
      '2026-06-15T14:30:00+02:00', '2026-11-24T12:00:00.500Z'],
    request: ['2026-11-24T12:00:00Z', '2026-01-01T00:00:00Z', '2026-06-15T12:30:00Z', '2025-06-01T00:00:00Z', 'garbage',
      '2026-11-24T12:00:00.500Z'],
  },
  { key: 'aws:EpochTime', type: 'epoch', policy: ['1767225600', '1790000000', '1800000000', 1790000000], request: ['1767225600', '1795000000', '1700000000', '1790000000'] },
  { key: 'aws:SecureTransport', type: 'bool', policy: ['true', 'false', 'TRUE', true, false], request: ['true', 'false', 'False', 'yes'] },
  { key: 'aws:PrincipalTag/team', type: 'string', policy: STRING_POLICY, request: [...STRING_REQUEST, ['pets', 'cats']] },
  { key: 'aws:username', type: 'string', policy: STRING_POLICY, request: ['alice', 'bob', 'Alice'] },
  { key: 'mygw:label', type: 'string', policy: STRING_POLICY, request: [...STRING_REQUEST, ''] },
  {
    key: 'aws:PrincipalArn', type: 'arn',
    policy: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:*`, 'arn:aws:iam::*:role/*',
      `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/*`, `arn:aws:iam::${ACCOUNT}:user/\${aws:username}`, `arn:*:iam::${OTHER_ACCOUNT}:*`,
      'arn:aws:iam::?11122223333:user/*'],
    request: [`arn:aws:iam::${ACCOUNT}:user/alice`, `arn:aws:iam::${ACCOUNT}:role/Deploy`, `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/s1`,
      `arn:aws:iam::${OTHER_ACCOUNT}:user/carol`, 'not-an-arn', `arn:aws:iam::${ACCOUNT}:user/bob`],
  },
  { key: 'mygw:count', type: 'numeric', policy: ['5', '10', '3.5', '-1', '0', 7], request: ['5', '10', '7', '3.50', 'abc', '-1', '0.0'] },
  { key: 'mygw:blob', type: 'binary', policy: ['QmluYXJ5', 'AAAA', 'aGVsbG8='], request: ['QmluYXJ5', 'aGVsbG8=', 'AAAB'] },
  {
    key: 'mygw:groups', type: 'multi', policy: ['admins', 'devs', 'ops*', '${aws:username}', 'a?mins'],
    request: [[], ['admins'], ['devs', 'ops-eu'], ['x', 'y'], 'admins', ['admins', 'devs'], ['alice']],
  },
];

const OPS: Record<KeyType, readonly string[]> = {
  ip: ['IpAddress', 'NotIpAddress'],
  iso: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
  epoch: ['DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals'],
  bool: ['Bool'],
  string: ['StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike'],
  arn: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'StringLike', 'StringEquals'],
  numeric: ['NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals'],
  binary: ['BinaryEquals'],
  multi: ['StringEquals', 'StringNotEquals', 'StringLike', 'StringNotLike', 'StringEqualsIgnoreCase'],
};

const NEGATED = /Not/;

/** One condition entry: operator name, key, value(s). */
function condition(g: Gen): [string, string, unknown] {
  const spec = g.pick(KEYS);
  const key = g.jumble(spec.key);
  if (g.chance(0.08)) return ['Null', key, g.pick(['true', 'false', true])];
  let type = spec.type;
  // Occasionally a string operator on a typed key (a common real-world shape) or a typed operator on a string key.
  // (Not numeric or date operators on other keys: the oracle parses "8.8.8.8" as 8.8 and
  // "2026-01-01T00:00:00Z" as 2026; documented difference with its own test.)
  if (g.chance(0.1)) type = g.pick(['string', 'ip'] as KeyType[]);
  let base = g.pick(OPS[type]);
  const poolSpec = type === spec.type ? spec : KEYS.find((k) => k.type === type)!;
  const negated = NEGATED.test(base);
  let set = '';
  if (spec.type === 'multi' ? g.chance(0.85) : g.chance(0.1)) set = g.pick(['ForAnyValue:', 'ForAllValues:']);
  const ifExists = g.chance(0.25) ? 'IfExists' : '';
  // Documented difference #1 (see docs/iam-differences.md): a variable without a value under a negated
  // operator. Keep variables with defaults only there; the difference has its own explicit test.
  // Documented difference #2: the oracle reads ${*} ${?} ${$} literally under the non-wildcard string
  // operators (StringEquals...). Keep escapes to the Like operators here.
  const like = /like/i.test(base) || type === 'arn';
  const pool = poolSpec.policy.filter((v) => typeof v !== 'string' ||
    (!(negated && /\$\{aws:[^},]+\}/.test(v)) && (like || !/\$\{[*?$]\}/.test(v))));
  const values = g.some(pool, 1, 3);
  if (g.chance(0.3)) base = g.jumble(base);
  return [`${set}${base}${ifExists}`, key, values.length === 1 && g.chance(0.5) ? values[0] : values];
}

function conditionBlock(g: Gen): Record<string, Record<string, unknown>> | undefined {
  const n = g.pick([0, 0, 1, 1, 2, 3]);
  if (n === 0) return undefined;
  const block: Record<string, Record<string, unknown>> = {};
  for (let i = 0; i < n; i++) {
    const [op, key, v] = condition(g);
    (block[op] ??= {})[key] = v;
  }
  return block;
}

export function statement(g: Gen, kind: 'identity' | 'resource'): Record<string, unknown> {
  const s: Record<string, unknown> = { Effect: g.chance(0.35) ? 'Deny' : 'Allow' };
  if (g.chance(0.3)) s.Sid = `S${g.int(0, 1e6)}`;
  if (kind === 'resource') {
    const p = g.pick(POLICY_PRINCIPALS);
    if (g.chance(0.12) && p !== '*') s.NotPrincipal = p;
    else s.Principal = p;
  }
  const actions = g.some(POLICY_ACTIONS, 1, 2);
  s[g.chance(0.12) ? 'NotAction' : 'Action'] = actions.length === 1 && g.chance(0.5) ? actions[0] : actions;
  const resources = g.some(POLICY_RESOURCES, 1, 2);
  s[g.chance(0.12) ? 'NotResource' : 'Resource'] = resources.length === 1 && g.chance(0.5) ? resources[0] : resources;
  const c = conditionBlock(g);
  if (c) s.Condition = c;
  return s;
}

export function policy(g: Gen, kind: 'identity' | 'resource'): Record<string, unknown> {
  const n = g.int(1, 3);
  const statements = Array.from({ length: n }, () => statement(g, kind));
  return { Version: '2012-10-17', Statement: n === 1 && g.chance(0.3) ? statements[0] : statements };
}

/** Context record (keys in random case); each key is present with probability 0.75. */
export function context(g: Gen): Record<string, string | string[]> {
  const ctx: Record<string, string | string[]> = {};
  for (const spec of KEYS) {
    if (!g.chance(0.75)) continue;
    const v = g.pick(spec.request);
    ctx[g.chance(0.2) ? spec.key.toUpperCase() : spec.key] = Array.isArray(v) ? [...v] : v;
  }
  return ctx;
}

export const ALLOW_ALL = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };

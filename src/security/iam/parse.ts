// parsePolicy: validates an IAM policy document (identity or resource policy) with a JSON path and a plain
// reason for every problem, and compiles it once into matchers that evaluate() runs per request.
import { compileGlobText, hasWildcard, startsAt } from './glob.ts';
import { compileCondition, parseOperatorName, splitOutsideBraces, templateMatcher } from './conditions.ts';
import { expandExecuteApiShorthand, isExecuteApiShorthand, splitArn } from './arn.ts';
import { parseTemplate, resolveGlob, type Template } from './variables.ts';
import type {
  CompiledPolicy, CompiledStatement, ParseOptions, ParseResult, PrincipalMatch, Problem, RequestState,
  ResolvedPrincipal, StatementRef,
} from './types.ts';

/** API Gateway's limit on a resource policy [reference §6.2]. */
export const RESOURCE_POLICY_MAX_CHARS = 8192;

const POLICY_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set([
  'Sid', 'Effect', 'Principal', 'NotPrincipal', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition',
]);

/** `a.b`, `a["aws:SourceIp"]`, `a[0]`. */
export function childPath(path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`;
  if (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key)) return path ? `${path}.${key}` : key;
  return `${path}[${JSON.stringify(key)}]`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Reports keys that occur twice in one JSON object. JSON.parse keeps the last silently, so a reviewer
 * reading `"Effect": "Deny", ..., "Effect": "Allow"` would see a Deny that is not there.
 */
export function findDuplicateKeys(text: string): Problem[] {
  const out: Problem[] = [];
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++; };
  const str = (): string => {
    const start = i;
    i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (path: string, depth = 0): void => {
    ws();
    const c = text[i];
    // Policies are shallow; past this depth the document is refused anyway, so stop before the stack does.
    if (depth > 32) throw new RangeError('nesting');
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') { i++; return; }
      for (;;) {
        ws();
        const key = str();
        const p = childPath(path, key);
        if (seen.has(key)) out.push({ path: p, message: `"${key}" appears twice in the same object; JSON parsers keep only the last one` });
        seen.add(key);
        ws();
        i++; // ':'
        value(p, depth + 1);
        ws();
        if (text[i++] === '}') return;
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') { i++; return; }
      for (let n = 0; ; n++) {
        value(childPath(path, n), depth + 1);
        ws();
        if (text[i++] === ']') return;
      }
    } else if (c === '"') {
      str();
    } else {
      while (i < text.length && !',}] \t\n\r'.includes(text[i]!)) i++;
    }
  };
  try {
    value('');
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    out.push({ path: '', message: 'the document is nested more than 32 levels deep; no policy element nests like that' });
  }
  return out;
}

/** A string or a non-empty array of strings; problems otherwise. Returns [value, path] pairs. */
function stringList(v: unknown, path: string, what: string, problems: Problem[]): [string, string][] {
  if (typeof v === 'string') return [[v, path]];
  if (Array.isArray(v)) {
    if (v.length === 0) { problems.push({ path, message: `${what} must not be an empty list` }); return []; }
    const out: [string, string][] = [];
    v.forEach((x, i) => {
      if (typeof x === 'string') out.push([x, childPath(path, i)]);
      else problems.push({ path: childPath(path, i), message: `${what} entries must be strings, not ${describe(x)}` });
    });
    return out;
  }
  problems.push({ path, message: `${what} must be a string or a list of strings, not ${describe(v)}` });
  return [];
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${JSON.stringify(v)}`;
}

// ---------------------------------------------------------------------------------------------- actions

const ACTION = /^([A-Za-z0-9-]+):([A-Za-z0-9_*?-]+)$/;

function compileActions(entries: [string, string][], problems: Problem[]): (actionLower: string) => boolean {
  const matchers: ((a: string) => boolean)[] = [];
  let all = false;
  for (const [a, path] of entries) {
    if (a === '*') { all = true; continue; }
    if (a.includes('${')) { problems.push({ path, message: `policy variables are not allowed in Action ("${a}")` }); continue; }
    const colon = a.indexOf(':');
    if (colon > 0 && hasWildcard(a.slice(0, colon))) {
      problems.push({ path, message: `"${a}": wildcards are not allowed in the service prefix, only in the action name` });
      continue;
    }
    if (!ACTION.test(a)) {
      problems.push({ path, message: `"${a}" is not an action: write service:Action, for example execute-api:Invoke, or "*"` });
      continue;
    }
    // Actions are case-insensitive: both sides are lower-cased (the request once per evaluation).
    const g = compileGlobText(a.toLowerCase());
    matchers.push((x) => g(x, 0));
  }
  if (all) return () => true;
  if (matchers.length === 1) return matchers[0]!;
  return (x) => {
    for (const m of matchers) if (m(x)) return true;
    return false;
  };
}

// -------------------------------------------------------------------------------------------- resources

type ResourceMatcher = (st: RequestState) => boolean;
/** 1 = matches, 0 = does not, -1 = a policy variable in it has no value (the entry matches no resource). */
type ResourceEntryMatcher = (st: RequestState) => 1 | 0 | -1;

/**
 * Resource or NotResource. An entry whose policy variable has no value matches no resource, and it makes a
 * NotResource element fail as well (the statement does not apply), as IAM and the oracle do.
 */
function compileResources(
  entries: [string, string][], options: ParseOptions, variables: boolean, not: boolean, problems: Problem[],
): ResourceMatcher {
  const matchers: ResourceEntryMatcher[] = [];
  let all = false;
  for (const [raw, path] of entries) {
    if (raw === '*') { all = true; continue; }
    let r = raw;
    if (isExecuteApiShorthand(raw)) {
      if (options.kind !== 'resource') {
        problems.push({ path, message: `"${raw}": the execute-api:/ shorthand is only expanded in resource policies; write the full ARN` });
        continue;
      }
      if (!options.api) {
        problems.push({ path, message: `"${raw}": expanding the execute-api:/ shorthand needs the API's region, account and id` });
        continue;
      }
      r = expandExecuteApiShorthand(raw, options.api);
    }
    const fields = splitOutsideBraces(r, ':', 6);
    if (fields.length < 6 || fields[0] !== 'arn') {
      problems.push({ path, message: `"${raw}" must be "*" or an ARN with six colon-separated fields (arn:partition:service:region:account:resource)` });
      continue;
    }
    let bad = false;
    for (let i = 1; i <= 4; i++) {
      const f = fields[i]!;
      if (f.includes('${')) {
        problems.push({ path, message: `"${raw}": policy variables may appear only in the resource part, after the fifth colon` });
        bad = true;
        break;
      }
      if (i <= 3 && f !== f.toLowerCase()) {
        // Partitions, services and regions are lower case; a capital letter would make a Deny silently miss.
        problems.push({ path, message: `"${raw}": the ${['', 'partition', 'service', 'region'][i]} "${f}" must be lower case` });
        bad = true;
        break;
      }
    }
    if (bad) continue;
    const t = parseTemplate(fields[5]!);
    if (typeof t === 'string') { problems.push({ path, message: t }); continue; }
    if (t.hasDollarBraces && !variables) {
      problems.push({ path, message: `"${raw}" uses \${...}, which is a policy variable only with "Version": "2012-10-17"; with 2008-10-17 or no Version AWS would match it literally` });
      continue;
    }
    matchers.push(resourceMatcher(fields, t));
  }
  if (!not) {
    if (all) return () => true;
    if (matchers.length === 1) { const m = matchers[0]!; return (st) => m(st) === 1; }
    return (st) => {
      for (const m of matchers) if (m(st) === 1) return true;
      return false;
    };
  }
  if (all) return () => false;
  return (st) => {
    for (const m of matchers) if (m(st) !== 0) return false;
    return true;
  };
}

function resourceMatcher(fields: string[], resourcePart: Template): ResourceEntryMatcher {
  const tail = resourceTail(resourcePart);
  const head = fields.slice(1, 5);
  if (head.every((f) => !hasWildcard(f))) {
    // Fast path: partition, service, region and account literal; one prefix test, then the resource glob.
    const prefix = `arn:${head.join(':')}:`;
    return (st) => (startsAt(st.resource, prefix, 0) ? tail(st.resource, prefix.length, st) : 0);
  }
  // Field by field, so a `*` in the region cannot run across a colon into the account.
  const hm = head.map((f) => compileGlobText(f));
  return (st) => {
    if (st.fields === undefined) st.fields = splitArn(st.resource);
    const rf = st.fields;
    if (rf === null) return 0;
    for (let i = 0; i < 4; i++) if (!hm[i]!(rf[i + 1]!, 0)) return 0;
    return tail(rf[5]!, 0, st);
  };
}

/** The resource part's glob; with variables, a request outside the literal first segment is a plain mismatch. */
function resourceTail(t: Template): (s: string, start: number, st: RequestState) => 1 | 0 | -1 {
  const m = templateMatcher(t);
  if (!t.hasVariables) return (s, start, st) => (m(s, start, st) ? 1 : 0);
  let lead = '';
  for (const p of t.parts) {
    if (p.kind !== 'text') break;
    const cut = p.text.search(/[*?]/);
    lead += cut === -1 ? p.text : p.text.slice(0, cut);
    if (cut !== -1) break;
  }
  const seg = lead.search(/[/:]/);
  const product = seg === -1 ? '' : lead.slice(0, seg + 1);
  return (s, start, st) => {
    if (!startsAt(s, product, start)) return 0;
    if (resolveGlob(t, st.get) === undefined) return -1;
    return m(s, start, st) ? 1 : 0;
  };
}

// ------------------------------------------------------------------------------------------- principals

type PrincipalMatcher = (p: ResolvedPrincipal | undefined) => PrincipalMatch;

const ACCOUNT_ID = /^\d{12}$/;
const ACCOUNT_ROOT = /^arn:[a-z][a-z-]*:iam::(\d{12}):root$/;
const ROLE_ARN = /^arn:([a-z][a-z-]*):iam::(\d{12}):role\/(?:.*\/)?([^/]+)$/;
const PRINCIPAL_ARN = /^arn:[a-z][a-z-]*:(iam|sts)::\d{12}:\S+$/;

function compilePrincipal(v: unknown, path: string, problems: Problem[]): PrincipalMatcher {
  if (v === '*') return () => 2;
  if (!isPlainObject(v)) {
    problems.push({ path, message: `must be "*" or {"AWS": <account id | ARN | "*">}, not ${describe(v)}` });
    return () => 0;
  }
  const entries: PrincipalMatcher[] = [];
  let wildcard = false;
  const keys = Object.keys(v);
  if (keys.length === 0) problems.push({ path, message: 'must name at least one principal, for example {"AWS": "123456789012"}' });
  for (const k of keys) {
    const kp = childPath(path, k);
    if (k !== 'AWS') {
      problems.push({
        path: kp,
        message: `"${k}" principals are not supported: only {"AWS": ...} (accounts, users, roles, role sessions) or "*" can call an API`,
      });
      continue;
    }
    for (const [p, pp] of stringList(v[k], kp, 'AWS principal', problems)) {
      if (p === '*') { wildcard = true; continue; }
      if (p.includes('${')) { problems.push({ path: pp, message: `policy variables are not allowed in principals ("${p}")` }); continue; }
      if (hasWildcard(p)) {
        problems.push({ path: pp, message: `"${p}": wildcards are not allowed in principals except "*" alone; use a Condition on aws:PrincipalArn with ArnLike` });
        continue;
      }
      let acct: string | undefined;
      if (ACCOUNT_ID.test(p)) acct = p;
      else acct = ACCOUNT_ROOT.exec(p)?.[1];
      if (acct !== undefined) {
        const a = acct;
        entries.push((x) => (x !== undefined && x.accountId === a ? 1 : 0));
        continue;
      }
      const role = ROLE_ARN.exec(p);
      if (role) {
        // A role ARN also names every session of the role (arn:aws:sts::acct:assumed-role/Name/session).
        const partitionAccount = `arn:${role[1]}:iam::${role[2]}`;
        const nameLower = role[3]!.toLowerCase();
        entries.push((x) => (x === undefined ? 0
          : x.arn === p || (x.sessionRole !== undefined && x.sessionRole.partitionAccount === partitionAccount &&
            x.sessionRole.roleNameLower === nameLower) ? 2 : 0));
        continue;
      }
      if (!PRINCIPAL_ARN.test(p)) {
        problems.push({ path: pp, message: `"${p}" is not an AWS principal: use "*", a 12-digit account id, or an IAM/STS ARN such as arn:aws:iam::123456789012:user/alice` });
        continue;
      }
      entries.push((x) => (x !== undefined && (x.arn === p || x.federatedUserArn === p) ? 2 : 0));
    }
  }
  if (wildcard) return () => 2;
  return (x) => {
    let best: PrincipalMatch = 0;
    for (const e of entries) {
      const m = e(x);
      if (m === 2) return 2;
      if (m > best) best = m;
    }
    return best;
  };
}

// ------------------------------------------------------------------------------------------- conditions

function compileConditions(v: unknown, path: string, variables: boolean, problems: Problem[]): ((st: RequestState) => boolean)[] {
  if (!isPlainObject(v)) {
    problems.push({ path, message: `must be an object of {operator: {key: value(s)}}, not ${describe(v)}` });
    return [];
  }
  const out: ((st: RequestState) => boolean)[] = [];
  for (const [opName, block] of Object.entries(v)) {
    const opPath = childPath(path, opName);
    const operator = parseOperatorName(opName);
    if (typeof operator === 'string') { problems.push({ path: opPath, message: operator }); continue; }
    if (!isPlainObject(block) || Object.keys(block).length === 0) {
      problems.push({ path: opPath, message: `must be a non-empty object of {"condition key": value or [values]}` });
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const keyPath = childPath(opPath, key);
      if (!/^[A-Za-z0-9_.-]+:.+$/.test(key)) {
        problems.push({ path: keyPath, message: `"${key}" is not a condition key: keys look like aws:SourceIp or service:name` });
        continue;
      }
      const isList = Array.isArray(raw);
      const list: unknown[] = isList ? raw : [raw];
      if (list.length === 0) { problems.push({ path: keyPath, message: 'needs at least one value' }); continue; }
      const values: string[] = [];
      let bad = false;
      list.forEach((x, i) => {
        if (typeof x === 'string') values.push(x);
        else if (typeof x === 'number' && Number.isFinite(x)) values.push(String(x));
        else if (typeof x === 'boolean') values.push(x ? 'true' : 'false');
        else {
          problems.push({ path: isList ? childPath(keyPath, i) : keyPath, message: `condition values must be strings, numbers or booleans, not ${describe(x)}` });
          bad = true;
        }
      });
      if (bad) continue;
      const c = compileCondition({ operator, key, values, variables });
      if (Array.isArray(c)) {
        for (const p of c) problems.push({ path: isList ? childPath(keyPath, p.index) : keyPath, message: p.message });
      } else {
        out.push(c);
      }
    }
  }
  return out;
}

// -------------------------------------------------------------------------------------------- statement

function compileStatement(
  statement: unknown, path: string, index: number, options: ParseOptions, variables: boolean, policyId: string | undefined,
  sids: Map<string, string>, problems: Problem[],
): CompiledStatement & { effect: 'Allow' | 'Deny' } | undefined {
  if (!isPlainObject(statement)) {
    problems.push({ path, message: `a statement must be an object, not ${describe(statement)}` });
    return undefined;
  }
  // Programmatic documents may carry `undefined` members; JSON cannot, so they count as absent.
  const s: Record<string, unknown> = Object.fromEntries(Object.entries(statement).filter(([, v]) => v !== undefined));
  const before = problems.length;
  for (const k of Object.keys(s)) {
    if (!STATEMENT_KEYS.has(k)) {
      problems.push({ path: childPath(path, k), message: `unknown statement element "${k}" (elements are case-sensitive: Sid, Effect, Principal, NotPrincipal, Action, NotAction, Resource, NotResource, Condition)` });
    }
  }
  let sid: string | undefined;
  if ('Sid' in s) {
    if (typeof s.Sid !== 'string') problems.push({ path: childPath(path, 'Sid'), message: `must be a string, not ${describe(s.Sid)}` });
    else {
      sid = s.Sid;
      const prev = sids.get(sid);
      if (prev !== undefined) problems.push({ path: childPath(path, 'Sid'), message: `Sid "${sid}" is already used by ${prev}; Sids must be unique` });
      else sids.set(sid, path);
    }
  }
  const effect = s.Effect;
  if (effect === undefined) problems.push({ path, message: 'missing "Effect" ("Allow" or "Deny")' });
  else if (effect !== 'Allow' && effect !== 'Deny') {
    problems.push({ path: childPath(path, 'Effect'), message: `must be "Allow" or "Deny" (case-sensitive), not ${JSON.stringify(effect)}` });
  }

  const hasP = 'Principal' in s;
  const hasNP = 'NotPrincipal' in s;
  let matchPrincipal: ((p: ResolvedPrincipal | undefined) => PrincipalMatch) | undefined;
  if (options.kind === 'identity') {
    for (const k of ['Principal', 'NotPrincipal'] as const) {
      if (k in s) problems.push({ path: childPath(path, k), message: `identity policies cannot have ${k}: the principal is whoever the policy is attached to` });
    }
  } else if (hasP && hasNP) {
    problems.push({ path, message: 'has both Principal and NotPrincipal; use exactly one' });
  } else if (!hasP && !hasNP) {
    problems.push({ path, message: 'a resource-policy statement needs Principal (or NotPrincipal), for example "Principal": "*"' });
  } else if (hasP) {
    matchPrincipal = compilePrincipal(s.Principal, childPath(path, 'Principal'), problems);
  } else {
    const m = compilePrincipal(s.NotPrincipal, childPath(path, 'NotPrincipal'), problems);
    matchPrincipal = (p) => (m(p) === 0 ? 2 : 0);
  }

  let matchesAction: (a: string) => boolean = () => false;
  if ('Action' in s && 'NotAction' in s) problems.push({ path, message: 'has both Action and NotAction; use exactly one' });
  else if (!('Action' in s) && !('NotAction' in s)) problems.push({ path, message: 'missing "Action" (or "NotAction")' });
  else {
    const k = 'Action' in s ? 'Action' : 'NotAction';
    const m = compileActions(stringList(s[k], childPath(path, k), k, problems), problems);
    matchesAction = k === 'Action' ? m : (a) => !m(a);
  }

  let matchesResource: (st: RequestState) => boolean = () => false;
  if ('Resource' in s && 'NotResource' in s) problems.push({ path, message: 'has both Resource and NotResource; use exactly one' });
  else if (!('Resource' in s) && !('NotResource' in s)) problems.push({ path, message: 'missing "Resource" (or "NotResource")' });
  else {
    const k = 'Resource' in s ? 'Resource' : 'NotResource';
    matchesResource = compileResources(stringList(s[k], childPath(path, k), k, problems), options, variables, k === 'NotResource', problems);
  }

  const conditions = 'Condition' in s ? compileConditions(s.Condition, childPath(path, 'Condition'), variables, problems) : [];
  if (problems.length > before) return undefined;
  const ref: StatementRef = Object.freeze({ ...(policyId !== undefined ? { policyId } : {}), ...(sid !== undefined ? { sid } : {}), index });
  return { effect: effect as 'Allow' | 'Deny', ref, matchesAction, matchPrincipal, matchesResource, conditions };
}

// --------------------------------------------------------------------------------------------- document

export function parsePolicy(doc: unknown, options: ParseOptions): ParseResult {
  const problems: Problem[] = [];
  let value = doc;
  if (typeof doc === 'string') {
    try {
      value = JSON.parse(doc);
    } catch (e) {
      return { ok: false, problems: [{ path: '', message: `not valid JSON: ${(e as Error).message}` }] };
    }
    problems.push(...findDuplicateKeys(doc));
  }
  if (!isPlainObject(value)) {
    return { ok: false, problems: [...problems, { path: '', message: `a policy must be a JSON object, not ${describe(value)}` }] };
  }
  const limit = options.maxChars ?? (options.kind === 'resource' ? RESOURCE_POLICY_MAX_CHARS : undefined);
  if (limit !== undefined) {
    // Counted on the compact form: whitespace between JSON tokens is not counted (as IAM does for its limits).
    let size: number;
    try {
      size = JSON.stringify(value).length;
    } catch {
      return { ok: false, problems: [...problems, { path: '', message: 'the policy cannot be serialised as JSON (a cycle or a BigInt?)' }] };
    }
    if (size > limit) {
      problems.push({ path: '', message: `the policy is ${size} characters long without whitespace; ${options.kind} policies may have at most ${limit}` });
    }
  }
  for (const k of Object.keys(value)) {
    if (!POLICY_KEYS.has(k)) problems.push({ path: childPath('', k), message: `unknown policy element "${k}" (expected Version, Id, Statement)` });
  }
  let version: '2012-10-17' | '2008-10-17' = '2008-10-17';
  if ('Version' in value) {
    if (value.Version === '2012-10-17' || value.Version === '2008-10-17') version = value.Version;
    else problems.push({ path: 'Version', message: `must be "2012-10-17" (recommended) or "2008-10-17", not ${JSON.stringify(value.Version)}` });
  }
  let id: string | undefined = options.policyId;
  if ('Id' in value) {
    if (typeof value.Id !== 'string') problems.push({ path: 'Id', message: `must be a string, not ${describe(value.Id)}` });
    else id ??= value.Id;
  }
  const variables = version === '2012-10-17';
  const denies: CompiledStatement[] = [];
  const allows: CompiledStatement[] = [];
  let count = 0;
  const st = value.Statement;
  if (st === undefined) problems.push({ path: '', message: 'missing "Statement"' });
  else {
    const list = Array.isArray(st) ? st : [st];
    if (list.length === 0) problems.push({ path: 'Statement', message: 'needs at least one statement' });
    const sids = new Map<string, string>();
    list.forEach((s, i) => {
      const path = Array.isArray(st) ? `Statement[${i}]` : 'Statement';
      const c = compileStatement(s, path, i, options, variables, id, sids, problems);
      if (c) (c.effect === 'Deny' ? denies : allows).push(c);
    });
    count = list.length;
  }
  if (problems.length) return { ok: false, problems };
  const policy: CompiledPolicy = Object.freeze({
    kind: options.kind,
    ...(id !== undefined ? { id } : {}),
    version,
    statementCount: count,
    denies: Object.freeze(denies),
    allows: Object.freeze(allows),
  });
  return { ok: true, policy };
}

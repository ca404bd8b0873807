// Condition operators: name parsing (IfExists, ForAnyValue:/ForAllValues:), value validation and compilation
// of one (operator, key, values) triple into a per-request predicate, with IAM's missing-key rules.
import { compileGlob, globFromTokens, matchGlob, type GlobMatcher } from './glob.ts';
import type { ContextValue, RequestState } from './types.ts';
import { parseTemplate, resolveGlob, resolveLiteral, templateGlobTokens, type Template } from './variables.ts';
import {
  cidrContains, isBase64, parseCidr, parseIamBool, parseIamDate, parseIamNumber, parseIp,
  type Cidr, type IpAddr,
} from './values.ts';
import { splitArn } from './arn.ts';

type Family = 'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

interface OperatorInfo {
  readonly name: string;
  readonly family: Family;
  /** Negated operators: several values are ANDed, and a missing key matches. */
  readonly negated: boolean;
}

const op = (name: string, family: Family, negated = false): OperatorInfo => ({ name, family, negated });

export const OPERATORS: readonly OperatorInfo[] = [
  op('StringEquals', 'string'), op('StringNotEquals', 'string', true),
  op('StringEqualsIgnoreCase', 'string'), op('StringNotEqualsIgnoreCase', 'string', true),
  op('StringLike', 'string'), op('StringNotLike', 'string', true),
  op('NumericEquals', 'numeric'), op('NumericNotEquals', 'numeric', true),
  op('NumericLessThan', 'numeric'), op('NumericLessThanEquals', 'numeric'),
  op('NumericGreaterThan', 'numeric'), op('NumericGreaterThanEquals', 'numeric'),
  op('DateEquals', 'date'), op('DateNotEquals', 'date', true),
  op('DateLessThan', 'date'), op('DateLessThanEquals', 'date'),
  op('DateGreaterThan', 'date'), op('DateGreaterThanEquals', 'date'),
  op('Bool', 'bool'),
  op('BinaryEquals', 'binary'),
  op('IpAddress', 'ip'), op('NotIpAddress', 'ip', true),
  op('ArnEquals', 'arn'), op('ArnLike', 'arn'), op('ArnNotEquals', 'arn', true), op('ArnNotLike', 'arn', true),
  op('Null', 'null'),
];

const BY_LOWER = new Map(OPERATORS.map((o) => [o.name.toLowerCase(), o]));

export interface ParsedOperator {
  readonly info: OperatorInfo;
  readonly set: 'any' | 'all' | undefined;
  readonly ifExists: boolean;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return row[b.length]!;
}

/** Operator names are matched case-insensitively, like the set-operator prefix and the IfExists suffix. */
export function parseOperatorName(raw: string): ParsedOperator | string {
  let rest = raw;
  let set: 'any' | 'all' | undefined;
  const lower = raw.toLowerCase();
  if (lower.startsWith('foranyvalue:')) { set = 'any'; rest = raw.slice(12); }
  else if (lower.startsWith('forallvalues:')) { set = 'all'; rest = raw.slice(13); }
  let ifExists = false;
  let info = BY_LOWER.get(rest.toLowerCase());
  if (!info && rest.toLowerCase().endsWith('ifexists')) {
    info = BY_LOWER.get(rest.slice(0, -8).toLowerCase());
    ifExists = info !== undefined;
  }
  if (!info) {
    const base = rest.replace(/ifexists$/i, '');
    let best: string | undefined;
    let bestD = 3;
    for (const o of OPERATORS) {
      const d = distance(base.toLowerCase(), o.name.toLowerCase());
      if (d < bestD) { bestD = d; best = o.name; }
    }
    return `unknown condition operator "${raw}"` + (best ? ` (did you mean "${raw.slice(0, raw.length - rest.length)}${best}${ifExists || /ifexists$/i.test(rest) ? 'IfExists' : ''}"?)` : '');
  }
  if (info.family === 'null' && ifExists) return `"${raw}": the Null operator cannot take the IfExists suffix`;
  if (info.family === 'null' && set) return `"${raw}": the Null operator cannot take a ForAnyValue:/ForAllValues: prefix`;
  return { info, set, ifExists };
}

/** 1 = match, 0 = no match, -1 = the request value cannot be compared (wrong type): false for every operator. */
type ValueTest = (requestValue: string, st: RequestState) => 1 | 0 | -1;

export interface ValueProblem { readonly index: number; readonly message: string }

// Single-entry memos: most requests evaluate several conditions on the same aws:SourceIp / aws:CurrentTime.
let lastIpText = '';
let lastIp: IpAddr | undefined;
function requestIp(s: string): IpAddr | undefined {
  if (s !== lastIpText) { lastIp = parseIp(s); lastIpText = s; }
  return lastIp;
}
let lastDateText = '';
let lastDate: number | undefined;
function requestDate(s: string): number | undefined {
  if (s !== lastDateText) { lastDate = parseIamDate(s); lastDateText = s; }
  return lastDate;
}

/** Splits at `sep` outside `${...}`, at most `max` pieces (the last keeps the rest). */
function splitOutsideBraces(text: string, sep: string, max: number): string[] {
  const out: string[] = [];
  let depth = false;
  let from = 0;
  for (let i = 0; i < text.length && out.length < max - 1; i++) {
    if (!depth && text[i] === '$' && text[i + 1] === '{') depth = true;
    else if (depth && text[i] === '}') depth = false;
    else if (!depth && text[i] === sep) { out.push(text.slice(from, i)); from = i + 1; }
  }
  out.push(text.slice(from));
  return out;
}

/** A glob over a template: compiled once when it has no variables, resolved per request otherwise. */
export function templateMatcher(t: Template): (s: string, start: number, st: RequestState) => boolean {
  if (!t.hasVariables) {
    const m: GlobMatcher = compileGlob(globFromTokens(templateGlobTokens(t)!));
    return (s, start) => m(s, start);
  }
  return (s, start, st) => {
    const g = resolveGlob(t, st.get);
    return g !== undefined && matchGlob(g, s, start);
  };
}

function stringTest(name: string, templates: Template[]): ValueTest {
  const ignoreCase = name.endsWith('IgnoreCase');
  const like = name.endsWith('Like');
  if (like) {
    const ms = templates.map(templateMatcher);
    return (v, st) => {
      for (const m of ms) if (m(v, 0, st)) return 1;
      return 0;
    };
  }
  if (templates.every((t) => !t.hasDollarBraces)) {
    const lits = templates.map((t) => (t.parts[0]?.kind === 'text' ? t.parts[0].text : ''));
    const set = new Set(ignoreCase ? lits.map((x) => x.toLowerCase()) : lits);
    return ignoreCase ? (v) => (set.has(v.toLowerCase()) ? 1 : 0) : (v) => (set.has(v) ? 1 : 0);
  }
  return (v, st) => {
    const cmp = ignoreCase ? v.toLowerCase() : v;
    for (const t of templates) {
      const r = resolveLiteral(t, st.get); // a variable without a value equals nothing
      if (r !== undefined && (ignoreCase ? r.toLowerCase() : r) === cmp) return 1;
    }
    return 0;
  };
}

function numericTest(name: string, nums: number[]): ValueTest {
  const cmp: (req: number, pol: number) => boolean =
    name === 'NumericEquals' || name === 'NumericNotEquals' ? (a, b) => a === b
      : name === 'NumericLessThan' ? (a, b) => a < b
        : name === 'NumericLessThanEquals' ? (a, b) => a <= b
          : name === 'NumericGreaterThan' ? (a, b) => a > b
            : (a, b) => a >= b;
  return (v) => {
    const n = parseIamNumber(v);
    if (n === undefined) return -1;
    for (const p of nums) if (cmp(n, p)) return 1;
    return 0;
  };
}

function dateTest(name: string, dates: number[]): ValueTest {
  const cmp: (req: number, pol: number) => boolean =
    name === 'DateEquals' || name === 'DateNotEquals' ? (a, b) => a === b
      : name === 'DateLessThan' ? (a, b) => a < b
        : name === 'DateLessThanEquals' ? (a, b) => a <= b
          : name === 'DateGreaterThan' ? (a, b) => a > b
            : (a, b) => a >= b;
  return (v) => {
    const d = requestDate(v);
    if (d === undefined) return -1;
    for (const p of dates) if (cmp(d, p)) return 1;
    return 0;
  };
}

const NO_CONTEXT = (): undefined => undefined;

function boolTest(templates: Template[]): ValueTest {
  const fixed = templates.map((t) => (t.hasVariables ? undefined : parseIamBool(resolveLiteral(t, NO_CONTEXT) ?? '')));
  return (v, st) => {
    const b = parseIamBool(v);
    if (b === undefined) return -1;
    for (let i = 0; i < templates.length; i++) {
      const t = templates[i]!;
      const want = t.hasVariables ? parseIamBool(resolveLiteral(t, st.get) ?? '') : fixed[i];
      if (want === b) return 1;
    }
    return 0;
  };
}

function ipTest(cidrs: Cidr[]): ValueTest {
  return (v) => {
    const ip = requestIp(v);
    if (ip === undefined) return -1;
    for (const c of cidrs) if (cidrContains(c, ip)) return 1;
    return 0;
  };
}

function arnTest(fieldSets: Template[][]): ValueTest {
  const matchers = fieldSets.map((fields) => fields.map(templateMatcher));
  return (v, st) => {
    const f = splitArn(v);
    if (f === null) return -1;
    for (const ms of matchers) {
      let ok = true;
      for (let i = 0; i < 5 && ok; i++) ok = ms[i]!(f[i + 1]!, 0, st);
      if (ok) return 1;
    }
    return 0;
  };
}

export interface CompileConditionInput {
  readonly operator: ParsedOperator;
  /** The key as written (reported in problems); matched lower-cased. */
  readonly key: string;
  readonly values: readonly string[];
  /** Policy variables are honoured only with Version 2012-10-17. */
  readonly variables: boolean;
}

/** Validates the values for the operator's type and compiles the predicate; problems carry the value index. */
export function compileCondition(input: CompileConditionInput): ((st: RequestState) => boolean) | ValueProblem[] {
  const { operator: { info, set, ifExists }, values } = input;
  const lowerKey = input.key.toLowerCase();
  const problems: ValueProblem[] = [];
  const fail = (index: number, message: string) => problems.push({ index, message });

  if (info.family === 'null') {
    let whenAbsent = false;
    let whenPresent = false;
    values.forEach((v, i) => {
      const b = parseIamBool(v);
      if (b === undefined) fail(i, `Null takes "true" (the key is absent) or "false" (the key is present), not "${v}"`);
      else if (b) whenAbsent = true;
      else whenPresent = true;
    });
    if (problems.length) return problems;
    return (st) => (st.get(lowerKey) === undefined ? whenAbsent : whenPresent);
  }

  const templates = (allowVars: boolean): Template[] => values.map((v, i) => {
    const t = parseTemplate(v);
    if (typeof t === 'string') { fail(i, t); return { parts: [], hasVariables: false, hasDollarBraces: false }; }
    if (t.hasDollarBraces && !input.variables) {
      fail(i, `"${v}" uses \${...}, which is a policy variable only with "Version": "2012-10-17"; ` +
        'with 2008-10-17 or no Version AWS would match it literally');
    } else if (t.hasVariables && !allowVars) {
      fail(i, `policy variables are not supported by ${info.name}`);
    }
    return t;
  });

  let test: ValueTest;
  switch (info.family) {
    case 'string':
      test = stringTest(info.name, templates(true));
      break;
    case 'bool': {
      const ts = templates(true);
      ts.forEach((t, i) => {
        if (!t.hasVariables && problems.every((p) => p.index !== i) && parseIamBool(values[i]!) === undefined) {
          fail(i, `Bool takes "true" or "false", not "${values[i]}"`);
        }
      });
      test = boolTest(ts);
      break;
    }
    case 'numeric': {
      const nums = values.map((v, i) => {
        const n = parseIamNumber(v);
        if (n === undefined) fail(i, `${info.name} needs an integer or decimal number, not "${v}"`);
        return n ?? 0;
      });
      test = numericTest(info.name, nums);
      break;
    }
    case 'date': {
      const dates = values.map((v, i) => {
        const d = parseIamDate(v);
        if (d === undefined) {
          fail(i, `${info.name} needs a W3C ISO 8601 date (2026-01-31, 2026-01-31T12:00:00Z) or epoch seconds, not "${v}"`);
        }
        return d ?? 0;
      });
      test = dateTest(info.name, dates);
      break;
    }
    case 'binary':
      values.forEach((v, i) => { if (!isBase64(v)) fail(i, `BinaryEquals needs a base64 value, not "${v}"`); });
      test = (v) => (values.includes(v) ? 1 : 0);
      break;
    case 'ip': {
      const cidrs = values.map((v, i) => {
        const c = parseCidr(v);
        if (typeof c === 'string') { fail(i, c); return undefined; }
        return c;
      });
      test = ipTest(cidrs.filter((c): c is Cidr => c !== undefined));
      break;
    }
    case 'arn': {
      const fieldSets = values.map((v, i) => {
        const fields = splitOutsideBraces(v, ':', 6);
        if (fields.length < 6 || fields[0] !== 'arn') {
          fail(i, `${info.name} needs an ARN with six colon-separated fields (arn:partition:service:region:account:resource), not "${v}"`);
          return [];
        }
        return fields.slice(1).map((f) => {
          const t = parseTemplate(f);
          if (typeof t === 'string') { fail(i, t); return { parts: [], hasVariables: false, hasDollarBraces: false } as Template; }
          if (t.hasDollarBraces && !input.variables) {
            fail(i, `"${v}" uses \${...}, which is a policy variable only with "Version": "2012-10-17"`);
          }
          return t;
        });
      });
      test = arnTest(fieldSets.filter((f) => f.length === 5));
      break;
    }
  }
  if (problems.length) return problems;

  const negated = info.negated;
  // Missing key: false, except negated operators and ...IfExists (true); ForAllValues is vacuously true and
  // ForAnyValue false; set operators ignore IfExists, as AWS and the oracle do.
  const whenMissing = set === 'all' ? true : set === 'any' ? false : ifExists || negated;
  const one = (x: string, st: RequestState): boolean => {
    const r = test(x, st);
    return r === -1 ? false : negated ? r === 0 : r === 1;
  };
  if (set === undefined) {
    return (st) => {
      const v: ContextValue | undefined = st.get(lowerKey);
      if (v === undefined) return whenMissing;
      // A single-valued operator never matches a multivalued key: a set operator is required.
      if (typeof v !== 'string') return false;
      return one(v, st);
    };
  }
  if (set === 'any') {
    return (st) => {
      const v = st.get(lowerKey);
      if (v === undefined) return whenMissing;
      if (typeof v === 'string') return one(v, st);
      for (const x of v) if (one(x, st)) return true;
      return false;
    };
  }
  return (st) => {
    const v = st.get(lowerKey);
    if (v === undefined) return whenMissing;
    if (typeof v === 'string') return one(v, st);
    for (const x of v) if (!one(x, st)) return false;
    return true;
  };
}

export { splitOutsideBraces };
